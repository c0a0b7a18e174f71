package libcow

/*
#include <cow.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Box is one copy-on-write value of a plain Go type (cow_box): numbers,
// bools, arrays and structs of those. Types holding Go pointers (strings,
// slices, maps, pointers) are refused, since the value lives in C memory.
type Box[T any] struct {
	handle
}

func wrapBox[T any](p *C.cow_box) *Box[T] {
	b := &Box[T]{handle{p: unsafe.Pointer(p)}}
	runtime.SetFinalizer(b, func(b *Box[T]) { b.Close() })
	return b
}

func (b *Box[T]) c() *C.cow_box { return (*C.cow_box)(b.p) }

// NewBox makes a box holding a copy of value.
func NewBox[T any](value T, opts ...Options) (*Box[T], error) {
	t, err := plainType(typeOf[T]())
	if err != nil {
		return nil, err
	}
	o := cOptions(opts)
	var out *C.cow_box
	if err := check(C.cow_box_new(&out, t, unsafe.Pointer(&value), &o)); err != nil {
		return nil, err
	}
	return wrapBox[T](out), nil
}

// Clone shares the value: O(1), no copy.
func (b *Box[T]) Clone() (*Box[T], error) {
	p, err := b.clone()
	if err != nil {
		return nil, err
	}
	return wrapBox[T]((*C.cow_box)(p)), nil
}

func (b *Box[T]) PtrEq(o *Box[T]) bool { return b.ptrEq(&o.handle) }

// Get copies the value out.
func (b *Box[T]) Get() T {
	var v T
	if p := C.cow_box_get(b.c()); p != nil {
		v = *(*T)(p)
	}
	runtime.KeepAlive(b)
	return v
}

// DataPtr is the address of the value, for identity checks only.
func (b *Box[T]) DataPtr() uintptr {
	p := uintptr(C.cow_box_get(b.c()))
	runtime.KeepAlive(b)
	return p
}

// Update makes the box unique (copying the value if shared) and lets fn
// change it in place. fn must not keep the pointer.
func (b *Box[T]) Update(fn func(v *T)) error {
	b.mustNotBeLent("a write")
	h := b.c()
	var p unsafe.Pointer
	err := check(C.cow_box_make_mut(&h, &p))
	b.p = unsafe.Pointer(h)
	if err == nil {
		defer b.lend(true)()
		fn((*T)(p))
	}
	runtime.KeepAlive(b)
	return err
}

// Into moves the value out (no copy inside libcow when unique) and closes
// the handle.
func (b *Box[T]) Into() (T, error) {
	b.mustNotBeLent("Into")
	var v T
	h := b.c()
	if err := check(C.cow_box_into(&h, unsafe.Pointer(&v))); err != nil {
		runtime.KeepAlive(b)
		return v, err
	}
	b.p = nil // consumed
	return v, nil
}
