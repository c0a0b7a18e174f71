package libcow

/*
#include <cow.h>

// Go strings are passed as _GoString_ (pointer and length, for the call's
// duration only): no C copy of the text is needed.
static cow_status go_str_new(cow_str **out, _GoString_ s, const cow_options *o) {
	return cow_str_new(out, _GoStringPtr(s), _GoStringLen(s), o);
}
static cow_status go_str_append(cow_str **slot, _GoString_ s) {
	return cow_str_append(slot, _GoStringPtr(s), _GoStringLen(s));
}
static cow_status go_str_insert(cow_str **slot, size_t at, _GoString_ s) {
	return cow_str_insert(slot, at, _GoStringPtr(s), _GoStringLen(s));
}
static cow_status go_str_find(const cow_str *str, _GoString_ needle, size_t from, size_t *pos) {
	return cow_str_find(str, _GoStringPtr(needle), _GoStringLen(needle), from, pos);
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Str is copy-on-write UTF-8 text (cow_str). Offsets are in bytes and must
// fall on character boundaries.
type Str struct {
	handle
}

func wrapStr(p *C.cow_str) *Str {
	s := &Str{handle{p: unsafe.Pointer(p)}}
	runtime.SetFinalizer(s, func(s *Str) { s.Close() })
	return s
}

func (s *Str) c() *C.cow_str { return (*C.cow_str)(s.p) }

// NewStr makes a string holding a copy of text (ErrUTF8 if it is not UTF-8).
func NewStr(text string, opts ...Options) (*Str, error) {
	o := cOptions(opts)
	var out *C.cow_str
	if err := check(C.go_str_new(&out, text, &o)); err != nil {
		return nil, err
	}
	return wrapStr(out), nil
}

// Clone shares the text: O(1), no copy.
func (s *Str) Clone() (*Str, error) {
	p, err := s.clone()
	if err != nil {
		return nil, err
	}
	return wrapStr((*C.cow_str)(p)), nil
}

// PtrEq reports whether both share the same data.
func (s *Str) PtrEq(o *Str) bool { return s.ptrEq(&o.handle) }

// Len is the length in bytes.
func (s *Str) Len() int {
	n := C.cow_str_len(s.c())
	runtime.KeepAlive(s)
	return int(n)
}

// CharCount is the number of Unicode code points.
func (s *Str) CharCount() int {
	n := C.cow_str_char_count(s.c())
	runtime.KeepAlive(s)
	return int(n)
}

// String copies the text into a Go string.
func (s *Str) String() string {
	out := C.GoStringN(C.cow_str_data(s.c()), C.int(C.cow_str_len(s.c())))
	runtime.KeepAlive(s)
	return out
}

// View lends fn the text's bytes in libcow memory, without a copy. fn must
// not write them or keep the slice after it returns.
func (s *Str) View(fn func(text []byte)) {
	defer s.lend(false)()
	data := C.cow_str_data(s.c())
	n := int(C.cow_str_len(s.c()))
	if data == nil {
		fn(nil)
	} else {
		fn(unsafe.Slice((*byte)(unsafe.Pointer(data)), n))
	}
	runtime.KeepAlive(s)
}

// DataPtr is the address of the text, for identity checks only.
func (s *Str) DataPtr() uintptr {
	p := uintptr(unsafe.Pointer(C.cow_str_data(s.c())))
	runtime.KeepAlive(s)
	return p
}

func (s *Str) edit(f func(slot **C.cow_str) C.cow_status) error {
	s.mustNotBeLent("a write")
	h := s.c()
	err := check(f(&h))
	s.p = unsafe.Pointer(h)
	runtime.KeepAlive(s)
	return err
}

func (s *Str) Append(text string) error {
	return s.edit(func(slot **C.cow_str) C.cow_status { return C.go_str_append(slot, text) })
}

func (s *Str) Insert(at int, text string) error {
	return s.edit(func(slot **C.cow_str) C.cow_status { return C.go_str_insert(slot, C.size_t(at), text) })
}

// Erase removes count bytes at offset at.
func (s *Str) Erase(at, count int) error {
	return s.edit(func(slot **C.cow_str) C.cow_status {
		return C.cow_str_erase(slot, C.size_t(at), C.size_t(count))
	})
}

func (s *Str) Truncate(n int) error {
	return s.edit(func(slot **C.cow_str) C.cow_status { return C.cow_str_truncate(slot, C.size_t(n)) })
}

// Substr is a string for [offset, offset+n): O(1), shares the storage.
func (s *Str) Substr(offset, n int) (*Str, error) {
	var out *C.cow_str
	err := check(C.cow_str_substr(&out, s.c(), C.size_t(offset), C.size_t(n)))
	runtime.KeepAlive(s)
	if err != nil {
		return nil, err
	}
	return wrapStr(out), nil
}

// Find gives the byte offset of needle at or after from, or -1.
func (s *Str) Find(needle string, from int) (int, error) {
	var pos C.size_t
	st := C.go_str_find(s.c(), needle, C.size_t(from), &pos)
	runtime.KeepAlive(s)
	if st == C.COW_ENOTFOUND {
		return -1, nil
	}
	if err := check(st); err != nil {
		return 0, err
	}
	return int(pos), nil
}

func (s *Str) Equal(o *Str) bool {
	r := C.cow_str_equal(s.c(), o.c())
	runtime.KeepAlive(s)
	runtime.KeepAlive(o)
	return bool(r)
}

func (s *Str) Compare(o *Str) int {
	r := C.cow_str_compare(s.c(), o.c())
	runtime.KeepAlive(s)
	runtime.KeepAlive(o)
	return int(r)
}

// Into moves the text out into a Go string and closes the handle.
func (s *Str) Into() (string, error) {
	s.mustNotBeLent("Into")
	var owned C.cow_owned
	h := s.c()
	if err := check(C.cow_str_into(&h, &owned)); err != nil {
		runtime.KeepAlive(s)
		return "", err
	}
	s.p = nil // consumed
	out := C.GoStringN((*C.char)(owned.data), C.int(owned.len))
	C.cow_owned_free(&owned)
	return out, nil
}
