package libcow

/*
#include <cow.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Vec is a copy-on-write vector of numbers (cow_vec with a built-in type).
//
// A Vec made with the Structural strategy is a persistent tree whose
// elements are not contiguous. Get, Set, Range, Spans, Slice and every
// write work for every representation; View, Edit and DataPtr need
// contiguous elements and answer ErrNotContiguous for a tree (even an
// empty one), changing nothing.
type Vec[T Number] struct {
	handle
}

func wrapVec[T Number](p *C.cow_vec) *Vec[T] {
	v := &Vec[T]{handle{p: unsafe.Pointer(p)}}
	runtime.SetFinalizer(v, func(v *Vec[T]) { v.Close() })
	return v
}

func (v *Vec[T]) c() *C.cow_vec { return (*C.cow_vec)(v.p) }

func elemArg[T Number](items []T) unsafe.Pointer {
	if len(items) == 0 {
		return nil
	}
	return unsafe.Pointer(&items[0])
}

// NewVec makes a vector holding a copy of items.
func NewVec[T Number](items []T, opts ...Options) (*Vec[T], error) {
	o := cOptions(opts)
	var out *C.cow_vec
	err := check(C.cow_vec_from_array(&out, builtinType(typeOf[T]()), elemArg(items), C.size_t(len(items)), &o))
	if err != nil {
		return nil, err
	}
	return wrapVec[T](out), nil
}

// NewVecWithCapacity makes an empty vector with room for capacity elements.
func NewVecWithCapacity[T Number](capacity int, opts ...Options) (*Vec[T], error) {
	o := cOptions(opts)
	var out *C.cow_vec
	if err := check(C.cow_vec_with_capacity(&out, builtinType(typeOf[T]()), C.size_t(capacity), &o)); err != nil {
		return nil, err
	}
	return wrapVec[T](out), nil
}

// Clone shares the elements: O(1), no copy.
func (v *Vec[T]) Clone() (*Vec[T], error) {
	p, err := v.clone()
	if err != nil {
		return nil, err
	}
	return wrapVec[T]((*C.cow_vec)(p)), nil
}

func (v *Vec[T]) PtrEq(o *Vec[T]) bool { return v.ptrEq(&o.handle) }

func (v *Vec[T]) Len() int {
	n := C.cow_vec_len(v.c())
	runtime.KeepAlive(v)
	return int(n)
}

// Get copies element i; false when out of range. Every representation
// (O(1) flat, O(log n) for a tree).
func (v *Vec[T]) Get(i int) (T, bool) {
	var zero T
	if i < 0 {
		return zero, false
	}
	p := C.cow_vec_get(v.c(), C.size_t(i))
	defer runtime.KeepAlive(v)
	if p == nil {
		return zero, false
	}
	return *(*T)(p), true
}

// View lends fn the elements in libcow memory as one slice, without a copy.
// For a tree it returns ErrNotContiguous without calling fn (Spans lends
// them span by span instead). fn must not write them or keep the slice
// after it returns.
func (v *Vec[T]) View(fn func(items []T)) error {
	defer v.lend(false)()
	var data unsafe.Pointer
	if err := check(C.cow_vec_data(v.c(), &data)); err != nil {
		runtime.KeepAlive(v)
		return err
	}
	fn(unsafe.Slice((*T)(data), v.Len()))
	runtime.KeepAlive(v)
	return nil
}

// Slice copies the elements into a Go slice.
func (v *Vec[T]) Slice() []T {
	out := make([]T, 0, v.Len())
	v.Range(func(_ int, x T) bool {
		out = append(out, x)
		return true
	})
	return out
}

// DataPtr is the address of the contiguous elements, for identity checks
// only. ErrNotContiguous (and 0) for a tree; ErrInvalid after Close.
func (v *Vec[T]) DataPtr() (uintptr, error) {
	var data unsafe.Pointer
	err := check(C.cow_vec_data(v.c(), &data))
	runtime.KeepAlive(v)
	if err != nil {
		return 0, err
	}
	return uintptr(data), nil
}

// Spans lends fn the elements span by span, in order, without a copy, until
// fn returns false: one span for a flat vector, one per leaf for a tree,
// none when empty; each is non-empty. start is the index of the span's
// first element. fn must not write the span or keep it after it returns.
func (v *Vec[T]) Spans(fn func(start int, items []T) bool) {
	defer v.lend(false)()
	var cur C.cow_vec_cursor
	defer runtime.KeepAlive(v)
	if C.cow_vec_cursor_init(&cur, v.c()) != C.COW_OK {
		return
	}
	start := 0
	var data unsafe.Pointer
	var n C.size_t
	for C.cow_vec_next_span(&cur, &data, &n) {
		if !fn(start, unsafe.Slice((*T)(data), int(n))) {
			return
		}
		start += int(n)
	}
}

// Range calls fn for each element in order until it returns false; it
// reads span by span (every representation) and never copies.
func (v *Vec[T]) Range(fn func(i int, x T) bool) {
	v.Spans(func(start int, items []T) bool {
		for j, x := range items {
			if !fn(start+j, x) {
				return false
			}
		}
		return true
	})
}

func (v *Vec[T]) edit(f func(slot **C.cow_vec) C.cow_status) error {
	v.mustNotBeLent("a write")
	h := v.c()
	err := check(f(&h))
	v.p = unsafe.Pointer(h)
	runtime.KeepAlive(v)
	return err
}

// Edit makes the vector unique (copying if shared) and lends fn its
// elements to write in place. fn must not keep the slice. For a tree it
// returns ErrNotContiguous without calling fn and changes nothing (write
// with Set instead).
func (v *Vec[T]) Edit(fn func(items []T)) error {
	var data unsafe.Pointer
	if err := v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_make_mut(s, &data) }); err != nil {
		return err
	}
	defer v.lend(true)()
	fn(unsafe.Slice((*T)(data), v.Len()))
	runtime.KeepAlive(v)
	return nil
}

func (v *Vec[T]) Push(x T) error {
	return v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_push(s, unsafe.Pointer(&x)) })
}

// Pop removes the last element; false when empty.
func (v *Vec[T]) Pop() (T, bool, error) {
	var x T
	if v.Len() == 0 {
		return x, false, nil
	}
	err := v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_pop(s, unsafe.Pointer(&x)) })
	return x, err == nil, err
}

// Set replaces element i and returns the old value.
func (v *Vec[T]) Set(i int, x T) (T, error) {
	var old T
	err := v.edit(func(s **C.cow_vec) C.cow_status {
		return C.cow_vec_set(s, C.size_t(i), unsafe.Pointer(&x), unsafe.Pointer(&old))
	})
	return old, err
}

func (v *Vec[T]) Insert(i int, x T) error {
	return v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_insert(s, C.size_t(i), unsafe.Pointer(&x)) })
}

// Remove removes element i and returns it.
func (v *Vec[T]) Remove(i int) (T, error) {
	var x T
	err := v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_erase(s, C.size_t(i), unsafe.Pointer(&x)) })
	return x, err
}

func (v *Vec[T]) Extend(items []T) error {
	return v.edit(func(s **C.cow_vec) C.cow_status {
		return C.cow_vec_extend(s, elemArg(items), C.size_t(len(items)))
	})
}

func (v *Vec[T]) Reserve(additional int) error {
	return v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_reserve(s, C.size_t(additional)) })
}

func (v *Vec[T]) Clear() error {
	return v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_clear(s) })
}

func (v *Vec[T]) Truncate(n int) error {
	return v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_truncate(s, C.size_t(n)) })
}

// Into moves the elements out into a Go slice and closes the handle.
func (v *Vec[T]) Into() ([]T, error) {
	v.mustNotBeLent("Into")
	var owned C.cow_owned
	h := v.c()
	if err := check(C.cow_vec_into(&h, &owned)); err != nil {
		runtime.KeepAlive(v)
		return nil, err
	}
	v.p = nil // consumed
	out := make([]T, int(owned.len))
	if owned.len > 0 {
		copy(out, unsafe.Slice((*T)(owned.data), int(owned.len)))
	}
	C.cow_owned_free(&owned)
	return out, nil
}
