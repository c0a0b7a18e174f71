package libcow

/*
#include <cow.h>
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// Number is an element or value type with a built-in libcow descriptor.
type Number interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int8 | ~int16 | ~int32 | ~int64 | ~float32 | ~float64
}

// Key is a map key type: a fixed-size integer, or a string (stored inside
// the map, validated UTF-8).
type Key interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int8 | ~int16 | ~int32 | ~int64 | ~string
}

// builtinType is the static descriptor for a Number or Key kind.
func builtinType(t reflect.Type) *C.cow_type {
	switch t.Kind() {
	case reflect.Uint8:
		return C.cow_type_u8()
	case reflect.Uint16:
		return C.cow_type_u16()
	case reflect.Uint32:
		return C.cow_type_u32()
	case reflect.Uint64:
		return C.cow_type_u64()
	case reflect.Int8:
		return C.cow_type_i8()
	case reflect.Int16:
		return C.cow_type_i16()
	case reflect.Int32:
		return C.cow_type_i32()
	case reflect.Int64:
		return C.cow_type_i64()
	case reflect.Float32:
		return C.cow_type_f32()
	case reflect.Float64:
		return C.cow_type_f64()
	case reflect.String:
		return C.cow_type_string()
	}
	panic(fmt.Sprintf("libcow: no built-in cow_type for %v", t))
}

func typeOf[T any]() reflect.Type {
	var zero T
	return reflect.TypeOf(&zero).Elem()
}

// plainTypes holds one C-allocated cow_type per Go type stored in a Box:
// cow.h wants a descriptor to outlive every value using it, so they are
// never freed (one small block per type).
var plainTypes sync.Map // reflect.Type -> *C.cow_type

// plainType describes a Go type made of numbers, bools, arrays and structs
// only: such values may live in C memory (no Go pointers) and are copied
// with memcpy.
func plainType(t reflect.Type) (*C.cow_type, error) {
	if d, ok := plainTypes.Load(t); ok {
		return d.(*C.cow_type), nil
	}
	if !pointerFree(t) {
		return nil, fmt.Errorf("libcow: %v holds Go pointers and cannot live in C memory: %w", t, ErrInvalid)
	}
	d := (*C.cow_type)(C.calloc(1, C.size_t(unsafe.Sizeof(C.cow_type{}))))
	if d == nil {
		return nil, ErrNoMem
	}
	size := t.Size()
	if size == 0 {
		size = uintptr(t.Align()) // libcow wants at least one byte, a multiple of the alignment
	}
	C.cow_type_init(d, C.size_t(size), C.size_t(t.Align()))
	if prev, loaded := plainTypes.LoadOrStore(t, d); loaded {
		C.free(unsafe.Pointer(d))
		return prev.(*C.cow_type), nil
	}
	return d, nil
}

func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
