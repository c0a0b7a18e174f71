package libcow

// Whole-vector operations: iteration from an index, sub-vectors, concat,
// equality, hashing and diff. Flat and tree vectors mix freely in each.

/*
#include <cow.h>

// Defined in Go below (//export): the cow_vec_diff_fn given to cow_vec_diff.
extern int libcowVecDiffCallback(void *ctx, size_t offset, size_t count);
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// SpansFrom is Spans starting at element index: the first span lent to fn
// starts there (start == index). index == Len() calls nothing; ErrRange when
// index is negative or past Len(). O(1) to start, plus O(log n) to find the
// first leaf of a tree.
func (v *Vec[T]) SpansFrom(index int, fn func(start int, items []T) bool) error {
	if index < 0 {
		return ErrRange
	}
	defer v.lend(false)()
	var cur C.cow_vec_cursor
	defer runtime.KeepAlive(v)
	if err := check(C.cow_vec_cursor_init_at(&cur, v.c(), C.size_t(index))); err != nil {
		return err
	}
	start := index
	var data unsafe.Pointer
	var n C.size_t
	for C.cow_vec_next_span(&cur, &data, &n) {
		if !fn(start, unsafe.Slice((*T)(data), int(n))) {
			return nil
		}
		start += int(n)
	}
	return nil
}

// RangeFrom is Range starting at element index (i counts from 0 for the
// whole vector, so the first call has i == index). ErrRange when index is
// negative or past Len().
func (v *Vec[T]) RangeFrom(index int, fn func(i int, x T) bool) error {
	return v.SpansFrom(index, func(start int, items []T) bool {
		for j, x := range items {
			if !fn(start+j, x) {
				return false
			}
		}
		return true
	})
}

// SubVec makes a new vector of the n elements from offset, with this
// vector's strategy and options: a value of its own. Flat: copies them,
// O(n). Tree: shares every node inside the range, O(log n). ErrRange when
// the range is not inside the vector.
func (v *Vec[T]) SubVec(offset, n int) (*Vec[T], error) {
	if offset < 0 || n < 0 {
		return nil, ErrRange
	}
	var out *C.cow_vec
	err := check(C.cow_vec_slice(&out, v.c(), C.size_t(offset), C.size_t(n)))
	runtime.KeepAlive(v)
	if err != nil {
		return nil, err
	}
	return wrapVec[T](out), nil
}

// Concat appends the elements of o, which is only read (o may be v itself:
// the vector is then doubled). Two trees are joined sharing the nodes of
// both, O(log n); otherwise o's elements are copied. v keeps its
// representation.
func (v *Vec[T]) Concat(o *Vec[T]) error {
	err := v.edit(func(s **C.cow_vec) C.cow_status { return C.cow_vec_concat(s, o.c()) })
	runtime.KeepAlive(o)
	return err
}

// Equal reports whether v and o hold equal elements in the same order, by
// libcow's element equality (for floats +0.0 equals -0.0 and NaN equals
// NaN), whatever their representations. O(1) for clones; trees skip the
// subtrees they share.
func (v *Vec[T]) Equal(o *Vec[T]) bool {
	r := C.cow_vec_equal(v.c(), o.c())
	runtime.KeepAlive(v)
	runtime.KeepAlive(o)
	return bool(r)
}

// Hash is a 64-bit hash of the length and the elements, consistent with
// Equal (equal vectors hash alike, flat or tree). Stable within a process
// only.
func (v *Vec[T]) Hash() uint64 {
	h := C.cow_vec_hash(v.c())
	runtime.KeepAlive(v)
	return uint64(h)
}

// DiffRange is a run of positions [Offset, Offset+Count) where two vectors
// differ.
type DiffRange struct {
	Offset, Count int
}

// diffCall is what cow_vec_diff's context stands for (through a
// cgo.Handle): the Go callback, and a panic it raised.
type diffCall struct {
	fn         func(offset, count int) bool
	panicked   bool
	panicValue any
}

//export libcowVecDiffCallback
func libcowVecDiffCallback(ctx unsafe.Pointer, offset, count C.size_t) (stop C.int) {
	call := (*(*cgo.Handle)(ctx)).Value().(*diffCall)
	done := false
	defer func() {
		if !done { // fn panicked: stop the walk; Diff panics again once libcow has returned
			call.panicked = true
			call.panicValue = recover()
			stop = 1
		}
	}()
	keepGoing := call.fn(int(offset), int(count))
	done = true
	if keepGoing {
		return 0
	}
	return 1
}

// Diff calls fn(offset, count) for each maximal run of positions where v
// and o differ (by libcow's element equality), in ascending order, until fn
// returns false; positions past the end of the shorter vector differ.
// stopped tells whether fn stopped the walk. Subtrees both versions share
// are skipped unread, so versions related by Set, Push and Pop diff in
// time proportional to what changed. fn must not write or close v or o
// (that panics). A panic in fn stops the walk and goes on once libcow has
// returned.
func (v *Vec[T]) Diff(o *Vec[T], fn func(offset, count int) bool) (stopped bool, err error) {
	defer v.lend(false)()
	defer o.lend(false)()
	call := &diffCall{fn: fn}
	// C gets the address of the handle (Go memory holding no Go pointer,
	// passed for the duration of the call), never the Go callback itself.
	h := cgo.NewHandle(call)
	defer h.Delete()
	var cStopped C.bool
	status := C.cow_vec_diff(v.c(), o.c(), C.cow_vec_diff_fn(C.libcowVecDiffCallback),
		unsafe.Pointer(&h), &cStopped)
	runtime.KeepAlive(v)
	runtime.KeepAlive(o)
	if call.panicked {
		panic(call.panicValue)
	}
	if err := check(status); err != nil {
		return false, err
	}
	return bool(cStopped), nil
}

// DiffRanges collects every range Diff reports.
func (v *Vec[T]) DiffRanges(o *Vec[T]) ([]DiffRange, error) {
	var out []DiffRange
	_, err := v.Diff(o, func(offset, count int) bool {
		out = append(out, DiffRange{offset, count})
		return true
	})
	return out, err
}
