// Package libcow binds libcow, copy-on-write values behind a stable C ABI,
// through cgo and the installed library: libcow.so found by pkg-config, or
// libcow.a with the build tag cow_static (see link_shared.go and
// link_static.go).
//
// Every value (Buf, Str, Vec, Map, Box) owns one libcow handle. Clone is
// O(1) and shares the data; the first write to a shared value makes a
// private copy, a write to a unique value happens in place. Call Close when
// done; a finalizer releases forgotten handles as a safety net only.
//
// Threads: any number of goroutines may read and Clone the same value at
// once. Writes to one value (one *Str, ...) need one goroutine at a time,
// like any Go variable: give each writer its own Clone.
//
// cgo pointer rules: libcow never keeps a Go pointer. Data that lives in
// libcow memory is copied out (Bytes, String, Slice), or lent to a callback
// (View) while runtime.KeepAlive keeps its handle alive.
package libcow

/*
#include <cow.h>
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Status is a libcow failure status (cow_status); it implements error.
// Compare with the Err* values (errors.Is works).
type Status int32

const (
	ErrInvalid       Status = C.COW_EINVAL
	ErrType          Status = C.COW_ETYPE
	ErrRange         Status = C.COW_ERANGE
	ErrNotFound      Status = C.COW_ENOTFOUND
	ErrUTF8          Status = C.COW_EUTF8
	ErrOverflow      Status = C.COW_EOVERFLOW
	ErrNoMem         Status = C.COW_ENOMEM
	ErrBusy          Status = C.COW_EBUSY
	ErrNotContiguous Status = C.COW_ENOTCONTIGUOUS
	ErrUnsupported   Status = C.COW_EUNSUPPORTED
	ErrCallback      Status = C.COW_ECALLBACK
)

func (s Status) Error() string {
	return C.GoString(C.cow_strerror(C.cow_status(s)))
}

// check turns a cow_status into nil or a Status error.
func check(st C.cow_status) error {
	if st == C.COW_OK {
		return nil
	}
	return Status(st)
}

// Version is the loaded library's version as major*10000 + minor*100 + patch.
func Version() uint32 { return uint32(C.cow_version()) }

// VersionString is the loaded library's version, e.g. "0.2.0".
func VersionString() string { return C.GoString(C.cow_version_string()) }

// Strategy says when a shared value is copied.
type Strategy uint32

const (
	Lazy      Strategy = C.COW_STRATEGY_LAZY      // on the first write to a shared value
	Eager     Strategy = C.COW_STRATEGY_EAGER     // at Clone; writes copy only values sharing storage with a slice
	Threshold Strategy = C.COW_STRATEGY_THRESHOLD // eager below ThresholdBytes, else lazy
	// A persistent tree: a write to a shared value copies only the nodes on
	// its path. For Vec (its elements are then not contiguous: see
	// Vec.View) and Map (a hash trie); the other kinds answer ErrUnsupported.
	Structural Strategy = C.COW_STRATEGY_STRUCTURAL
	// Flat or tree, chosen at each copy a write makes from how the
	// lineage is used, for Vec and Map. ThresholdBytes is the size floor
	// below which a value stays flat (0: 64 KiB). Read such vectors by
	// index or View: a tree has no contiguous elements.
	Adaptive Strategy = C.COW_STRATEGY_ADAPTIVE
)

// Options for the constructors (all optional).
type Options struct {
	Strategy       Strategy
	ThresholdBytes uint64
	NoStats        bool // keep no lineage statistics
}

// cOptions fills a cow_options from the optional Options argument.
func cOptions(opts []Options) C.cow_options {
	var o C.cow_options
	C.cow_options_init(&o)
	if len(opts) > 0 {
		o.strategy = C.cow_strategy_t(opts[0].Strategy)
		o.threshold_bytes = C.uint64_t(opts[0].ThresholdBytes)
		if opts[0].NoStats {
			o.flags |= C.COW_OPT_NO_STATS
		}
	}
	return o
}

// Stats are the statistics of a value's lineage (cow_stats_info).
type Stats struct {
	Enabled     bool
	Clones      uint64
	Copies      uint64
	BytesCopied uint64
	MemorySaved uint64
	LiveHandles uint64
	LiveValues  uint64
	CopyRate    float64
	ValueBytes  uint64 // current size of this value in bytes
	// How this value (not its lineage) is stored.
	Representation Representation
	// Tree nodes copied by writes under a private root (0 for flat values);
	// their bytes are counted in BytesCopied too.
	NodesCopied uint64
	// Switches between representations in the lineage (adaptive values; 0
	// for every other strategy).
	Switches uint64
}

// Representation is how a value is stored (cow_stats_info.representation).
type Representation uint32

const (
	// RepresentationFlat is one contiguous block.
	RepresentationFlat Representation = C.COW_REPRESENTATION_FLAT
	// RepresentationTree is a persistent tree.
	RepresentationTree Representation = C.COW_REPRESENTATION_TREE
)

func (r Representation) String() string {
	switch r {
	case RepresentationFlat:
		return "flat"
	case RepresentationTree:
		return "tree"
	}
	return fmt.Sprintf("Representation(%d)", uint32(r))
}

// GlobalStats are libcow's process-wide counters.
type GlobalStats struct {
	LiveValues      uint64
	LiveBytes       uint64
	LiveAllocations uint64
}

// ReadGlobalStats reads the values, bytes and blocks alive in libcow.
func ReadGlobalStats() GlobalStats {
	var g C.cow_global_stats_info
	g.size = C.uint32_t(unsafe.Sizeof(g))
	C.cow_global_stats(&g)
	return GlobalStats{uint64(g.live_values), uint64(g.live_bytes), uint64(g.live_allocations)}
}

// handle is what every value type embeds: the libcow handle and the
// operations that work on any kind.
type handle struct {
	p unsafe.Pointer // a C pointer (never Go memory); nil after Close

	// Callbacks now running with this value's memory lent to them: reading
	// (View, Range) or writing (Edit, Update). While one runs, a write,
	// MakeUnique, Into or Close of the same value would free or move that
	// memory, and a Clone during a writing loan would share memory still
	// being written: those calls panic instead.
	reading, writing atomic.Int32
}

// lend marks the value as lent to a callback until the returned function
// runs (use with defer).
func (h *handle) lend(write bool) func() {
	n := &h.reading
	if write {
		n = &h.writing
	}
	n.Add(1)
	return func() { n.Add(-1) }
}

// mustNotBeLent panics when `what` (a write, MakeUnique, Into, Close)
// happens inside a callback lent this value's memory.
func (h *handle) mustNotBeLent(what string) {
	if h.reading.Load() != 0 || h.writing.Load() != 0 {
		panic("libcow: " + what + " of a value inside its own View/Range/Edit/Update callback")
	}
}

// Close releases the handle. Further use gives ErrInvalid or zero values;
// calling Close again does nothing. Like a write, it must not run while
// another goroutine reads the value.
func (h *handle) Close() {
	h.mustNotBeLent("Close")
	if h.p != nil {
		C.cow_release(h.p)
		h.p = nil
	}
}

// StrongCount is the number of handles sharing this value (a snapshot).
func (h *handle) StrongCount() uint64 {
	n := C.cow_strong_count(h.p)
	runtime.KeepAlive(h)
	return uint64(n)
}

// IsShared reports whether a write through this value would copy.
func (h *handle) IsShared() bool {
	r := C.cow_is_shared(h.p)
	runtime.KeepAlive(h)
	return bool(r)
}

func (h *handle) ptrEq(o *handle) bool {
	r := C.cow_ptr_eq(h.p, o.p)
	runtime.KeepAlive(h)
	runtime.KeepAlive(o)
	return bool(r)
}

// MakeUnique makes the value unique (copying it if shared), so that a
// batch of writes pays the check once.
func (h *handle) MakeUnique() error {
	h.mustNotBeLent("MakeUnique")
	p := h.p
	err := check(C.cow_make_mut(unsafe.Pointer(&p)))
	h.p = p
	runtime.KeepAlive(h)
	return err
}

// Stats reads the statistics of this value's lineage.
func (h *handle) Stats() Stats {
	var i C.cow_stats_info
	C.cow_stats_info_init_v2(&i)
	C.cow_stats(h.p, &i)
	runtime.KeepAlive(h)
	return Stats{
		Enabled:        i.enabled != 0,
		Clones:         uint64(i.clones),
		Copies:         uint64(i.copies),
		BytesCopied:    uint64(i.bytes_copied),
		MemorySaved:    uint64(i.memory_saved),
		LiveHandles:    uint64(i.live_handles),
		LiveValues:     uint64(i.live_values),
		CopyRate:       float64(i.copy_rate),
		ValueBytes:     uint64(i.value_bytes),
		Representation: Representation(i.representation),
		NodesCopied:    uint64(i.nodes_copied),
		Switches:       uint64(i.switches),
	}
}

// Report is the text report of the lineage statistics ("Clones: N", ...).
func (h *handle) Report() (string, error) { return h.report(C.COW_REPORT_TEXT) }

// ReportJSON is the same report as one JSON object.
func (h *handle) ReportJSON() (string, error) { return h.report(C.COW_REPORT_JSON) }

func (h *handle) report(format C.uint32_t) (string, error) {
	var out *C.cow_str
	err := check(C.cow_stats_report(h.p, format, &out))
	runtime.KeepAlive(h)
	if err != nil {
		return "", err
	}
	s := C.GoStringN(C.cow_str_data(out), C.int(C.cow_str_len(out)))
	C.cow_str_release(out)
	return s, nil
}

// clone is cow_clone with the failure reported.
func (h *handle) clone() (unsafe.Pointer, error) {
	if h.writing.Load() != 0 {
		panic("libcow: Clone of a value inside its own Edit/Update callback")
	}
	c := C.cow_clone(h.p)
	defer runtime.KeepAlive(h)
	if c != nil {
		return c, nil
	}
	if h.p == nil {
		return nil, ErrInvalid
	}
	if uint64(C.cow_strong_count(h.p)) >= uint64(C.COW_MAX_REFCOUNT) {
		return nil, ErrOverflow
	}
	return nil, ErrNoMem
}

// bytesArg gives C a pointer to a Go byte slice (Go memory without Go
// pointers may be passed for the duration of a call).
func bytesArg(b []byte) (unsafe.Pointer, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return unsafe.Pointer(&b[0]), C.size_t(len(b))
}
