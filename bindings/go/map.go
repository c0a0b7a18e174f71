package libcow

/*
#include <cow.h>

// String keys travel as _GoString_ (pointer and length for the call only).
static const void *go_map_get_s(const cow_map *m, _GoString_ k) {
	return cow_map_get(m, _GoStringPtr(k), _GoStringLen(k));
}
static bool go_map_contains_s(const cow_map *m, _GoString_ k) {
	return cow_map_contains(m, _GoStringPtr(k), _GoStringLen(k));
}
static cow_status go_map_insert_s(cow_map **slot, _GoString_ k, const void *v, void *old, bool *replaced) {
	return cow_map_insert(slot, _GoStringPtr(k), _GoStringLen(k), v, old, replaced);
}
static cow_status go_map_remove_s(cow_map **slot, _GoString_ k, void *out) {
	return cow_map_remove(slot, _GoStringPtr(k), _GoStringLen(k), out);
}
static cow_status go_map_get_mut_s(cow_map **slot, _GoString_ k, void **out) {
	return cow_map_get_mut(slot, _GoStringPtr(k), _GoStringLen(k), out);
}
static cow_status go_map_entry_s(cow_map **slot, _GoString_ k, const void *init, void **out,
                                 bool *inserted) {
	return cow_map_entry(slot, _GoStringPtr(k), _GoStringLen(k), init, out, inserted);
}
*/
import "C"

import (
	"reflect"
	"runtime"
	"unsafe"
)

// Map is a copy-on-write hash map from integer or string keys to numbers
// (cow_map). Iteration order is unspecified.
type Map[K Key, V Number] struct {
	handle
	stringKeys bool
}

func wrapMap[K Key, V Number](p *C.cow_map) *Map[K, V] {
	m := &Map[K, V]{handle{p: unsafe.Pointer(p)}, typeOf[K]().Kind() == reflect.String}
	runtime.SetFinalizer(m, func(m *Map[K, V]) { m.Close() })
	return m
}

func (m *Map[K, V]) c() *C.cow_map { return (*C.cow_map)(m.p) }

// NewMap makes an empty map.
func NewMap[K Key, V Number](opts ...Options) (*Map[K, V], error) {
	o := cOptions(opts)
	var out *C.cow_map
	if err := check(C.cow_map_new(&out, builtinType(typeOf[K]()), builtinType(typeOf[V]()), &o)); err != nil {
		return nil, err
	}
	return wrapMap[K, V](out), nil
}

// Clone shares the entries: O(1), no copy.
func (m *Map[K, V]) Clone() (*Map[K, V], error) {
	p, err := m.clone()
	if err != nil {
		return nil, err
	}
	return wrapMap[K, V]((*C.cow_map)(p)), nil
}

func (m *Map[K, V]) PtrEq(o *Map[K, V]) bool { return m.ptrEq(&o.handle) }

func (m *Map[K, V]) Len() int {
	n := C.cow_map_len(m.c())
	runtime.KeepAlive(m)
	return int(n)
}

// str reads a key whose underlying type is string.
func str[K Key](k *K) string { return *(*string)(unsafe.Pointer(k)) }

// Get copies the value for key; false when absent.
func (m *Map[K, V]) Get(key K) (V, bool) {
	var p unsafe.Pointer
	if m.stringKeys {
		p = unsafe.Pointer(C.go_map_get_s(m.c(), str(&key)))
	} else {
		p = unsafe.Pointer(C.cow_map_get(m.c(), unsafe.Pointer(&key), C.size_t(unsafe.Sizeof(key))))
	}
	defer runtime.KeepAlive(m)
	var zero V
	if p == nil {
		return zero, false
	}
	return *(*V)(p), true
}

func (m *Map[K, V]) Contains(key K) bool {
	var r C.bool
	if m.stringKeys {
		r = C.go_map_contains_s(m.c(), str(&key))
	} else {
		r = C.cow_map_contains(m.c(), unsafe.Pointer(&key), C.size_t(unsafe.Sizeof(key)))
	}
	runtime.KeepAlive(m)
	return bool(r)
}

func (m *Map[K, V]) edit(f func(slot **C.cow_map) C.cow_status) error {
	m.mustNotBeLent("a write")
	h := m.c()
	err := check(f(&h))
	m.p = unsafe.Pointer(h)
	runtime.KeepAlive(m)
	return err
}

// Insert inserts or replaces; it returns the replaced value and whether
// there was one.
func (m *Map[K, V]) Insert(key K, value V) (old V, replaced bool, err error) {
	var rep C.bool
	err = m.edit(func(s **C.cow_map) C.cow_status {
		if m.stringKeys {
			return C.go_map_insert_s(s, str(&key), unsafe.Pointer(&value), unsafe.Pointer(&old), &rep)
		}
		return C.cow_map_insert(s, unsafe.Pointer(&key), C.size_t(unsafe.Sizeof(key)), unsafe.Pointer(&value),
			unsafe.Pointer(&old), &rep)
	})
	return old, bool(rep), err
}

// Remove removes key and returns its value; false when absent (nothing is
// copied then, even when the map is shared).
func (m *Map[K, V]) Remove(key K) (V, bool, error) {
	var out V
	err := m.edit(func(s **C.cow_map) C.cow_status {
		if m.stringKeys {
			return C.go_map_remove_s(s, str(&key), unsafe.Pointer(&out))
		}
		return C.cow_map_remove(s, unsafe.Pointer(&key), C.size_t(unsafe.Sizeof(key)), unsafe.Pointer(&out))
	})
	if err == ErrNotFound {
		return out, false, nil
	}
	return out, err == nil, err
}

// Update makes the map unique and lets fn change the value for key in
// place; false when the key is absent.
func (m *Map[K, V]) Update(key K, fn func(v *V)) (bool, error) {
	var p unsafe.Pointer
	err := m.edit(func(s **C.cow_map) C.cow_status {
		if m.stringKeys {
			return C.go_map_get_mut_s(s, str(&key), &p)
		}
		return C.cow_map_get_mut(s, unsafe.Pointer(&key), C.size_t(unsafe.Sizeof(key)), &p)
	})
	if err == ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer m.lend(true)()
	fn((*V)(p))
	runtime.KeepAlive(m)
	return true, nil
}

// Entry finds key, inserting init when it is absent, makes the map unique
// and lets fn (which may be nil) change the value in place: one call where
// Insert then Update would copy a shared map twice (a tree copies one
// path). inserted tells whether the key was inserted.
func (m *Map[K, V]) Entry(key K, init V, fn func(v *V)) (inserted bool, err error) {
	var p unsafe.Pointer
	var ins C.bool
	err = m.edit(func(s **C.cow_map) C.cow_status {
		if m.stringKeys {
			return C.go_map_entry_s(s, str(&key), unsafe.Pointer(&init), &p, &ins)
		}
		return C.cow_map_entry(s, unsafe.Pointer(&key), C.size_t(unsafe.Sizeof(key)), unsafe.Pointer(&init), &p, &ins)
	})
	if err != nil {
		return false, err
	}
	if fn != nil {
		defer m.lend(true)()
		fn((*V)(p))
		runtime.KeepAlive(m)
	}
	return bool(ins), nil
}

func (m *Map[K, V]) Clear() error {
	return m.edit(func(s **C.cow_map) C.cow_status { return C.cow_map_clear(s) })
}

// Range calls fn for each entry until it returns false; it never copies
// the map (string keys are copied into Go strings).
func (m *Map[K, V]) Range(fn func(k K, v V) bool) {
	defer m.lend(false)()
	var cur C.cow_map_cursor
	defer runtime.KeepAlive(m)
	if C.cow_map_cursor_init(&cur, m.c()) != C.COW_OK {
		return
	}
	var kp, vp unsafe.Pointer
	var kn C.size_t
	for C.cow_map_next(&cur, &kp, &kn, &vp) {
		var k K
		if m.stringKeys {
			*(*string)(unsafe.Pointer(&k)) = C.GoStringN((*C.char)(kp), C.int(kn))
		} else {
			k = *(*K)(kp)
		}
		if !fn(k, *(*V)(vp)) {
			return
		}
	}
}
