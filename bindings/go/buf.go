package libcow

/*
#include <cow.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Buf is a copy-on-write byte buffer (cow_buf).
type Buf struct {
	handle
}

func wrapBuf(p *C.cow_buf) *Buf {
	b := &Buf{handle{p: unsafe.Pointer(p)}}
	runtime.SetFinalizer(b, func(b *Buf) { b.Close() })
	return b
}

func (b *Buf) c() *C.cow_buf { return (*C.cow_buf)(b.p) }

// NewBuf makes a buffer holding a copy of data.
func NewBuf(data []byte, opts ...Options) (*Buf, error) {
	o := cOptions(opts)
	ptr, n := bytesArg(data)
	var out *C.cow_buf
	if err := check(C.cow_buf_new(&out, ptr, n, &o)); err != nil {
		return nil, err
	}
	return wrapBuf(out), nil
}

// NewBufWithCapacity makes an empty buffer with room for capacity bytes.
func NewBufWithCapacity(capacity int) (*Buf, error) {
	var out *C.cow_buf
	if err := check(C.cow_buf_with_capacity(&out, C.size_t(capacity), nil)); err != nil {
		return nil, err
	}
	return wrapBuf(out), nil
}

// Clone shares the bytes: O(1), no copy.
func (b *Buf) Clone() (*Buf, error) {
	p, err := b.clone()
	if err != nil {
		return nil, err
	}
	return wrapBuf((*C.cow_buf)(p)), nil
}

// PtrEq reports whether both share the same data.
func (b *Buf) PtrEq(o *Buf) bool { return b.ptrEq(&o.handle) }

func (b *Buf) Len() int {
	n := C.cow_buf_len(b.c())
	runtime.KeepAlive(b)
	return int(n)
}

// Bytes copies the bytes into Go memory.
func (b *Buf) Bytes() []byte {
	out := C.GoBytes(unsafe.Pointer(C.cow_buf_data(b.c())), C.int(C.cow_buf_len(b.c())))
	runtime.KeepAlive(b)
	return out
}

// View lends fn the bytes in libcow memory, without a copy. fn must not
// write them or keep the slice after it returns.
func (b *Buf) View(fn func(data []byte)) {
	defer b.lend(false)()
	data := C.cow_buf_data(b.c())
	n := int(C.cow_buf_len(b.c()))
	if data == nil {
		fn(nil)
	} else {
		fn(unsafe.Slice((*byte)(unsafe.Pointer(data)), n))
	}
	runtime.KeepAlive(b) // the slice points into memory this handle keeps alive
}

// DataPtr is the address of the bytes, for identity checks only.
func (b *Buf) DataPtr() uintptr {
	p := uintptr(unsafe.Pointer(C.cow_buf_data(b.c())))
	runtime.KeepAlive(b)
	return p
}

// edit runs a slot-taking call and stores the (possibly new) handle.
func (b *Buf) edit(f func(slot **C.cow_buf) C.cow_status) error {
	b.mustNotBeLent("a write")
	h := b.c()
	err := check(f(&h))
	b.p = unsafe.Pointer(h)
	runtime.KeepAlive(b)
	return err
}

// Edit makes the buffer unique (copying if shared) and lends fn its bytes
// to write in place. fn must not keep the slice.
func (b *Buf) Edit(fn func(data []byte)) error {
	var data *C.uint8_t
	if err := b.edit(func(s **C.cow_buf) C.cow_status { return C.cow_buf_make_mut(s, &data) }); err != nil {
		return err
	}
	defer b.lend(true)()
	fn(unsafe.Slice((*byte)(unsafe.Pointer(data)), b.Len()))
	runtime.KeepAlive(b)
	return nil
}

func (b *Buf) Append(data []byte) error {
	ptr, n := bytesArg(data)
	return b.edit(func(s **C.cow_buf) C.cow_status { return C.cow_buf_append(s, ptr, n) })
}

func (b *Buf) Insert(at int, data []byte) error {
	ptr, n := bytesArg(data)
	return b.edit(func(s **C.cow_buf) C.cow_status { return C.cow_buf_insert(s, C.size_t(at), ptr, n) })
}

// Erase removes count bytes at offset at.
func (b *Buf) Erase(at, count int) error {
	return b.edit(func(s **C.cow_buf) C.cow_status { return C.cow_buf_erase(s, C.size_t(at), C.size_t(count)) })
}

func (b *Buf) Truncate(n int) error {
	return b.edit(func(s **C.cow_buf) C.cow_status { return C.cow_buf_truncate(s, C.size_t(n)) })
}

func (b *Buf) Resize(n int, fill byte) error {
	return b.edit(func(s **C.cow_buf) C.cow_status { return C.cow_buf_resize(s, C.size_t(n), C.uint8_t(fill)) })
}

// Slice is a buffer viewing [offset, offset+n): O(1), shares the storage.
func (b *Buf) Slice(offset, n int) (*Buf, error) {
	var out *C.cow_buf
	err := check(C.cow_buf_slice(&out, b.c(), C.size_t(offset), C.size_t(n)))
	runtime.KeepAlive(b)
	if err != nil {
		return nil, err
	}
	return wrapBuf(out), nil
}

func (b *Buf) Equal(o *Buf) bool {
	r := C.cow_buf_equal(b.c(), o.c())
	runtime.KeepAlive(b)
	runtime.KeepAlive(o)
	return bool(r)
}

// Compare orders like bytes.Compare.
func (b *Buf) Compare(o *Buf) int {
	r := C.cow_buf_compare(b.c(), o.c())
	runtime.KeepAlive(b)
	runtime.KeepAlive(o)
	return int(r)
}

// Into moves the bytes out into Go memory and closes the handle.
func (b *Buf) Into() ([]byte, error) {
	b.mustNotBeLent("Into")
	var owned C.cow_owned
	h := b.c()
	if err := check(C.cow_buf_into(&h, &owned)); err != nil {
		runtime.KeepAlive(b)
		return nil, err
	}
	b.p = nil // consumed
	out := C.GoBytes(owned.data, C.int(owned.len))
	C.cow_owned_free(&owned)
	return out, nil
}
