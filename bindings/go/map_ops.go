package libcow

// Whole-map operations: equality, hashing and diff (Entry is in map.go,
// beside the other calls taking string keys). Flat and tree (Structural)
// maps mix freely in each.

/*
#include <cow.h>

// Defined in Go below (//export): the cow_map_diff_fn given to cow_map_diff.
extern int libcowMapDiffCallback(void *ctx, cow_map_change_t kind, void *key, size_t key_len,
                                 void *old_value, void *new_value);
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Equal reports whether m and o hold the same keys with equal values, by
// libcow's value equality (for floats +0.0 equals -0.0 and NaN equals NaN),
// whatever their representations. O(1) for clones; two trees skip the
// subtrees they share.
func (m *Map[K, V]) Equal(o *Map[K, V]) bool {
	r := C.cow_map_equal(m.c(), o.c())
	runtime.KeepAlive(m)
	runtime.KeepAlive(o)
	return bool(r)
}

// Hash is a 64-bit hash of the entries, independent of their order and of
// the representation, consistent with Equal. Stable within a process only.
func (m *Map[K, V]) Hash() uint64 {
	h := C.cow_map_hash(m.c())
	runtime.KeepAlive(m)
	return uint64(h)
}

// MapChangeKind is what Diff reports for one key.
type MapChangeKind int

const (
	// MapAdded: the key is in the other map only (Old is the zero value).
	MapAdded MapChangeKind = C.COW_MAP_ADDED
	// MapRemoved: the key is in this map only (New is the zero value).
	MapRemoved MapChangeKind = C.COW_MAP_REMOVED
	// MapChanged: the key is in both, with values that are not equal.
	MapChanged MapChangeKind = C.COW_MAP_CHANGED
)

func (k MapChangeKind) String() string {
	switch k {
	case MapAdded:
		return "added"
	case MapRemoved:
		return "removed"
	case MapChanged:
		return "changed"
	}
	return "unknown"
}

// MapChange is one key that differs between two maps, as Diff reports it.
type MapChange[K Key, V Number] struct {
	Kind     MapChangeKind
	Key      K
	Old, New V // the zero value where the key is absent
}

// mapDiffCall is what cow_map_diff's context stands for (through a
// cgo.Handle): a function that turns the C arguments into a MapChange and
// calls the Go callback, and a panic it raised.
type mapDiffCall struct {
	fn         func(kind C.cow_map_change_t, key unsafe.Pointer, keyLen C.size_t, old, new unsafe.Pointer) bool
	panicked   bool
	panicValue any
}

//export libcowMapDiffCallback
func libcowMapDiffCallback(ctx unsafe.Pointer, kind C.cow_map_change_t, key unsafe.Pointer, keyLen C.size_t,
	oldValue, newValue unsafe.Pointer) (stop C.int) {
	call := (*(*cgo.Handle)(ctx)).Value().(*mapDiffCall)
	done := false
	defer func() {
		if !done { // fn panicked: stop the walk; Diff panics again once libcow has returned
			call.panicked = true
			call.panicValue = recover()
			stop = 1
		}
	}()
	keepGoing := call.fn(kind, key, keyLen, oldValue, newValue)
	done = true
	if keepGoing {
		return 0
	}
	return 1
}

// Diff calls fn once for each key added (in o only), removed (in m only) or
// changed (values not equal, as for Equal) from m to o, in unspecified
// order, until fn returns false. Keys and values are copied into Go memory.
// stopped tells whether fn stopped the walk. Two trees that share structure
// skip what they share, so versions a few writes apart diff in time
// proportional to what changed. fn must not write or close m or o (that
// panics). A panic in fn stops the walk and goes on once libcow has
// returned.
func (m *Map[K, V]) Diff(o *Map[K, V], fn func(c MapChange[K, V]) bool) (stopped bool, err error) {
	defer m.lend(false)()
	defer o.lend(false)()
	call := &mapDiffCall{fn: func(kind C.cow_map_change_t, kp unsafe.Pointer, kn C.size_t, op, np unsafe.Pointer) bool {
		c := MapChange[K, V]{Kind: MapChangeKind(kind)}
		if m.stringKeys {
			*(*string)(unsafe.Pointer(&c.Key)) = C.GoStringN((*C.char)(kp), C.int(kn))
		} else {
			c.Key = *(*K)(kp)
		}
		if op != nil {
			c.Old = *(*V)(op)
		}
		if np != nil {
			c.New = *(*V)(np)
		}
		return fn(c)
	}}
	// C gets the address of the handle (Go memory holding no Go pointer,
	// passed for the duration of the call), never the Go callback itself.
	h := cgo.NewHandle(call)
	defer h.Delete()
	var cStopped C.bool
	status := C.cow_map_diff(m.c(), o.c(), C.cow_map_diff_fn(C.libcowMapDiffCallback),
		unsafe.Pointer(&h), &cStopped)
	runtime.KeepAlive(m)
	runtime.KeepAlive(o)
	if call.panicked {
		panic(call.panicValue)
	}
	if err := check(status); err != nil {
		return false, err
	}
	return bool(cStopped), nil
}

// DiffChanges collects every change Diff reports.
func (m *Map[K, V]) DiffChanges(o *Map[K, V]) ([]MapChange[K, V], error) {
	var out []MapChange[K, V]
	_, err := m.Diff(o, func(c MapChange[K, V]) bool {
		out = append(out, c)
		return true
	})
	return out, err
}
