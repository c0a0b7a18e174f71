package libcow_test

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"libcow.dev/libcow"
)

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func eq[T comparable](t *testing.T, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func isErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// ---- checkpoint: string ----

func TestStringCloneShares(t *testing.T) {
	a := must[*libcow.Str](t)(libcow.NewStr("hello"))
	defer a.Close()
	b := must[*libcow.Str](t)(a.Clone())
	eq(t, a.StrongCount(), uint64(2), "strong count")
	eq(t, a.PtrEq(b), true, "same representation")
	eq(t, a.DataPtr(), b.DataPtr(), "same bytes")
	eq(t, a.Stats().Copies, uint64(0), "copies")
	b.Close()
	eq(t, a.StrongCount(), uint64(1), "strong count after Close")
	eq(t, a.IsShared(), false, "unique again")
}

func TestStringWriteToSharedCopies(t *testing.T) {
	a := must[*libcow.Str](t)(libcow.NewStr("hello"))
	defer a.Close()
	b := must[*libcow.Str](t)(a.Clone())
	defer b.Close()
	ok(t, b.Append(" world"))
	eq(t, a.String(), "hello", "the other holder is unchanged")
	eq(t, b.String(), "hello world", "the writer sees its write")
	eq(t, a.PtrEq(b), false, "b has a private copy")
	s := a.Stats()
	eq(t, [3]uint64{s.Clones, s.Copies, s.BytesCopied}, [3]uint64{1, 1, 5}, "clones, copies, bytes")
}

func TestStringUniqueWriteInPlace(t *testing.T) {
	s := must[*libcow.Str](t)(libcow.NewStr("hello, world"))
	defer s.Close()
	data := s.DataPtr()
	ok(t, s.Truncate(5))
	ok(t, s.Erase(1, 2))
	ok(t, s.Insert(1, "el"))
	ok(t, s.MakeUnique())
	eq(t, s.String(), "hello", "text")
	eq(t, s.DataPtr(), data, "edited in place")
	eq(t, s.Stats().Copies, uint64(0), "no copy")
}

func TestStringQueriesAndErrors(t *testing.T) {
	s := must[*libcow.Str](t)(libcow.NewStr("héllo wörld"))
	defer s.Close()
	eq(t, s.Len(), 13, "bytes")
	eq(t, s.CharCount(), 11, "chars")
	eq(t, must[int](t)(s.Find("wö", 0)), 7, "find")
	eq(t, must[int](t)(s.Find("xyz", 0)), -1, "not found")
	_, err := s.Find("l", 100)
	eq(t, errors.Is(err, libcow.ErrRange), true, "find past the end")
	_, err = libcow.NewStr("bad \xc3")
	eq(t, errors.Is(err, libcow.ErrUTF8), true, "invalid UTF-8 refused")
	c := must[*libcow.Str](t)(s.Clone())
	defer c.Close()
	isErr(t, c.Erase(2, 1), libcow.ErrInvalid, "not a character boundary")
	eq(t, c.PtrEq(s), true, "a failed write copies nothing")
	eq(t, libcow.ErrUTF8.Error() != "", true, "errors have text")
	sub := must[*libcow.Str](t)(s.Substr(7, 6))
	eq(t, sub.String(), "wörld", "substr")
	eq(t, sub.IsShared(), true, "substr shares storage")
	eq(t, must[string](t)(sub.Into()), "wörld", "into")
	var viewed string
	s.View(func(b []byte) { viewed = string(b) })
	eq(t, viewed, "héllo wörld", "view")
}

func TestBufCopyOnWrite(t *testing.T) {
	a := must[*libcow.Buf](t)(libcow.NewBuf([]byte{1, 2, 3, 4}))
	defer a.Close()
	b := must[*libcow.Buf](t)(a.Clone())
	defer b.Close()
	ok(t, b.Edit(func(d []byte) { d[0] = 9 }))
	eq(t, fmt.Sprint(a.Bytes()), "[1 2 3 4]", "original")
	eq(t, fmt.Sprint(b.Bytes()), "[9 2 3 4]", "copy")
	ok(t, b.Resize(6, 7))
	ok(t, b.Erase(1, 2))
	eq(t, fmt.Sprint(b.Bytes()), "[9 4 7 7]", "after resize and erase")
	eq(t, a.Compare(b) < 0, true, "compare")

	u := must[*libcow.Buf](t)(libcow.NewBufWithCapacity(64))
	defer u.Close()
	ok(t, u.Append([]byte("abc")))
	data := u.DataPtr()
	ok(t, u.Append([]byte("def")))
	ok(t, u.Edit(func(d []byte) { d[0] = 'A' }))
	eq(t, string(u.Bytes()), "Abcdef", "unique edits")
	eq(t, u.DataPtr(), data, "unique writes stay in place")
	sl := must[*libcow.Buf](t)(u.Slice(1, 3))
	eq(t, sl.DataPtr(), data+1, "a slice views the same storage")
	eq(t, string(must[[]byte](t)(sl.Into())), "bcd", "slice into")
}

// ---- checkpoint: vector ----

func TestVectorCopyOnPushAndSet(t *testing.T) {
	a := must[*libcow.Vec[int32]](t)(libcow.NewVec([]int32{1, 2, 3}))
	defer a.Close()
	b := must[*libcow.Vec[int32]](t)(a.Clone())
	defer b.Close()
	eq(t, a.StrongCount(), uint64(2), "shared")
	ok(t, b.Push(4))
	eq(t, fmt.Sprint(a.Slice()), "[1 2 3]", "original after push")
	eq(t, fmt.Sprint(b.Slice()), "[1 2 3 4]", "copy after push")
	c := must[*libcow.Vec[int32]](t)(a.Clone())
	defer c.Close()
	eq(t, must[int32](t)(c.Set(0, 100)), int32(1), "old value")
	eq(t, fmt.Sprint(a.Slice()), "[1 2 3]", "original after set")
	eq(t, fmt.Sprint(c.Slice()), "[100 2 3]", "copy after set")
	_, err := c.Set(3, 0)
	isErr(t, err, libcow.ErrRange, "set out of range")
	eq(t, a.Stats().Copies, uint64(2), "one copy per written clone")
}

func TestVectorUniqueInPlacePopIteration(t *testing.T) {
	v := must[*libcow.Vec[uint64]](t)(libcow.NewVecWithCapacity[uint64](16))
	defer v.Close()
	ok(t, v.Push(1))
	data := must[uintptr](t)(v.DataPtr())
	for i := uint64(2); i <= 10; i++ {
		ok(t, v.Push(i))
	}
	ok(t, v.Edit(func(xs []uint64) { xs[0] = 100 }))
	eq(t, must[uintptr](t)(v.DataPtr()), data, "unique vector with room stays in place")
	spans := 0
	v.Spans(func(start int, xs []uint64) bool {
		eq(t, start, 0, "a flat vector's one span starts at 0")
		eq(t, len(xs), 10, "a flat vector's one span holds every element")
		spans++
		return true
	})
	eq(t, spans, 1, "a flat vector is one span")
	x, got, err := v.Pop()
	ok(t, err)
	eq(t, got && x == 10, true, "pop")
	ok(t, v.Insert(0, 7))
	eq(t, must[uint64](t)(v.Remove(1)), uint64(100), "remove")
	ok(t, v.Extend([]uint64{11, 12}))
	sum := uint64(0)
	n := 0
	v.Range(func(i int, x uint64) bool {
		if i != n {
			t.Fatalf("index %d, want %d", i, n)
		}
		sum += x
		n++
		return true
	})
	eq(t, n, 11, "range visits every element")
	eq(t, sum, uint64(7+2+3+4+5+6+7+8+9+11+12), "sum")
	ok(t, v.View(func(xs []uint64) { eq(t, len(xs), 11, "view length") }))
	ok(t, v.Truncate(2))
	eq(t, fmt.Sprint(must[[]uint64](t)(v.Into())), "[7 2]", "into")
	e := must[*libcow.Vec[float64]](t)(libcow.NewVec[float64](nil))
	defer e.Close()
	_, got, err = e.Pop()
	eq(t, got || err != nil, false, "pop on empty")
}

// ---- checkpoint: structural vector ----

// A Structural vector is a tree: several spans, read by index and by
// iteration, edited after a clone (which never sees the edits), and no
// contiguous view.
func TestVectorStructural(t *testing.T) {
	const n = 10000
	tree := libcow.Options{Strategy: libcow.Structural}
	v := must[*libcow.Vec[uint64]](t)(libcow.NewVec[uint64](nil, tree))
	defer v.Close()
	eq(t, v.Stats().Representation, libcow.RepresentationTree, "representation")
	_, err := v.DataPtr()
	isErr(t, err, libcow.ErrNotContiguous, "DataPtr of an empty tree")
	for i := uint64(0); i < n; i++ {
		ok(t, v.Push(i*3))
	}
	eq(t, v.Len(), n, "length")

	// By index.
	for i := 0; i < n; i++ {
		if x, found := v.Get(i); !found || x != uint64(i)*3 {
			t.Fatalf("Get(%d) = %d, %v; want %d", i, x, found, i*3)
		}
	}
	_, found := v.Get(n)
	eq(t, found, false, "Get out of range")

	// By iteration: in order, several non-empty spans.
	next := 0
	v.Range(func(i int, x uint64) bool {
		if i != next || x != uint64(i)*3 {
			t.Fatalf("Range gave (%d, %d) at step %d", i, x, next)
		}
		next++
		return true
	})
	eq(t, next, n, "Range visits every element")
	spans, total := 0, 0
	v.Spans(func(start int, xs []uint64) bool {
		eq(t, start, total, "a span starts where the last ended")
		if len(xs) == 0 {
			t.Fatalf("empty span at %d", start)
		}
		for j, x := range xs {
			if x != uint64(start+j)*3 {
				t.Fatalf("span element %d = %d", start+j, x)
			}
		}
		spans++
		total += len(xs)
		return true
	})
	eq(t, total, n, "the spans hold every element")
	if spans < 2 {
		t.Fatalf("%d elements in %d span(s): want several leaves", n, spans)
	}
	stopped := 0
	v.Spans(func(int, []uint64) bool { stopped++; return false })
	eq(t, stopped, 1, "Spans stops when fn returns false")
	original := v.Slice()
	eq(t, len(original), n, "Slice length")

	// No contiguous view; Edit changes nothing.
	_, err = v.DataPtr()
	isErr(t, err, libcow.ErrNotContiguous, "DataPtr of a tree")
	isErr(t, v.View(func([]uint64) { t.Fatal("View called fn for a tree") }), libcow.ErrNotContiguous, "View")
	snapshot := must[*libcow.Vec[uint64]](t)(v.Clone())
	defer snapshot.Close()
	isErr(t, v.Edit(func([]uint64) { t.Fatal("Edit called fn for a tree") }), libcow.ErrNotContiguous, "Edit")
	eq(t, v.PtrEq(snapshot), true, "a failed Edit copies nothing")

	// Edits after the clone: the clone never sees them.
	eq(t, must[uint64](t)(v.Set(5000, 1)), uint64(15000), "old value")
	ok(t, v.Push(42))
	ok(t, v.Insert(1, 99))
	eq(t, must[uint64](t)(v.Remove(9000)), uint64(8999*3), "removed value")
	eq(t, v.PtrEq(snapshot), false, "the edited vector has its own root")
	want := append([]uint64{}, original...)
	want[5000] = 1
	want = append(want, 42)
	want = append(want[:1], append([]uint64{99}, want[1:]...)...)
	want = append(want[:9000], want[9001:]...)
	eq(t, fmt.Sprint(v.Slice()) == fmt.Sprint(want), true, "edited vector")
	eq(t, fmt.Sprint(snapshot.Slice()) == fmt.Sprint(original), true, "the clone is unchanged")
	x, _ := v.Get(5001)
	eq(t, x, uint64(1), "Get after Set")
	eq(t, snapshot.Stats().Representation, libcow.RepresentationTree, "the clone is a tree")
	eq(t, v.Stats().Representation, libcow.RepresentationTree, "the copy is a tree")
	eq(t, fmt.Sprint(must[[]uint64](t)(v.Into())) == fmt.Sprint(want), true, "Into")

	w := must[*libcow.Vec[int16]](t)(libcow.NewVecWithCapacity[int16](64, tree))
	defer w.Close()
	ok(t, w.Extend([]int16{4, 5}))
	_, err = w.DataPtr()
	isErr(t, err, libcow.ErrNotContiguous, "a tree made with capacity")
	eq(t, fmt.Sprint(w.Slice()), "[4 5]", "Slice of a small tree")
}

// ---- checkpoint: map ----

func TestMapInsertRemoveContainsIterate(t *testing.T) {
	m := must[*libcow.Map[uint64, float64]](t)(libcow.NewMap[uint64, float64]())
	defer m.Close()
	for k := uint64(0); k < 100; k++ {
		_, replaced, err := m.Insert(k, float64(k)/2)
		ok(t, err)
		eq(t, replaced, false, "new key")
	}
	old, replaced, err := m.Insert(1, 42)
	ok(t, err)
	eq(t, replaced && old == 0.5, true, "replace gives the old value")
	eq(t, m.Len(), 100, "len")
	eq(t, m.Contains(99), true, "contains")
	eq(t, m.Contains(100), false, "absent")
	v, found, err := m.Remove(2)
	ok(t, err)
	eq(t, found && v == 1, true, "remove")
	_, found, err = m.Remove(2)
	eq(t, found || err != nil, false, "remove absent")
	got, _ := m.Get(1)
	eq(t, got, 42.0, "get")
	updated, err := m.Update(1, func(v *float64) { *v += 1 })
	ok(t, err)
	eq(t, updated, true, "update")
	got, _ = m.Get(1)
	eq(t, got, 43.0, "after update")
	seen := map[uint64]bool{}
	m.Range(func(k uint64, v float64) bool {
		if seen[k] {
			t.Fatalf("key %d twice", k)
		}
		seen[k] = true
		return true
	})
	eq(t, len(seen), 99, "range visits every entry")
}

func TestMapStringKeysAndCopyOnWrite(t *testing.T) {
	a := must[*libcow.Map[string, int32]](t)(libcow.NewMap[string, int32]())
	defer a.Close()
	for i, w := range []string{"alpha", "beta", "gamma", ""} {
		_, _, err := a.Insert(w, int32(i))
		ok(t, err)
	}
	b := must[*libcow.Map[string, int32]](t)(a.Clone())
	defer b.Close()
	_, found, err := b.Remove("delta")
	ok(t, err)
	eq(t, found, false, "absent")
	eq(t, a.PtrEq(b), true, "removing an absent key copies nothing")
	_, _, err = b.Insert("beta", -1)
	ok(t, err)
	_, _, err = b.Remove("gamma")
	ok(t, err)
	av, _ := a.Get("beta")
	bv, _ := b.Get("beta")
	eq(t, [2]int32{av, bv}, [2]int32{1, -1}, "values after the write")
	eq(t, a.Contains("gamma") && !b.Contains("gamma"), true, "remove only in the copy")
	var keys []string
	a.Range(func(k string, _ int32) bool { keys = append(keys, k); return true })
	sort.Strings(keys)
	eq(t, strings.Join(keys, ","), ",alpha,beta,gamma", "string keys")
	eq(t, a.Stats().Copies, uint64(1), "one copy")
	_, _, err = a.Insert("bad \xff", 0)
	isErr(t, err, libcow.ErrUTF8, "string keys are UTF-8")
}

// ---- checkpoint: generic (box) ----

type point struct {
	X, Y  float64
	Tags  [4]int32
	Valid bool
}

func TestBoxMakeMutAndInto(t *testing.T) {
	a := must[*libcow.Box[point]](t)(libcow.NewBox(point{X: 1, Y: 2, Valid: true}))
	defer a.Close()
	b := must[*libcow.Box[point]](t)(a.Clone())
	defer b.Close()
	eq(t, a.DataPtr(), b.DataPtr(), "clone shares the value")
	ok(t, b.Update(func(p *point) { p.X = 10 }))
	ok(t, b.Update(func(p *point) { p.Tags[0] = 5 }))
	eq(t, a.Get(), point{X: 1, Y: 2, Valid: true}, "original unchanged")
	eq(t, b.Get(), point{X: 10, Y: 2, Tags: [4]int32{5}, Valid: true}, "copy changed")
	eq(t, a.Stats().Copies, uint64(1), "two writes, one copy")
	data := b.DataPtr()
	ok(t, b.Update(func(p *point) { p.Y = 20 }))
	eq(t, b.DataPtr(), data, "unique box edited in place")
	c := must[*libcow.Box[point]](t)(a.Clone())
	eq(t, must[point](t)(c.Into()), a.Get(), "into from a shared box")
	eq(t, a.StrongCount(), uint64(1), "into consumed the clone")

	_, err := libcow.NewBox("strings hold Go pointers")
	eq(t, errors.Is(err, libcow.ErrInvalid), true, "types with Go pointers are refused")
}

// ---- checkpoint: threads (goroutines) ----

func TestTenGoroutinesCloning(t *testing.T) {
	a := must[*libcow.Str](t)(libcow.NewStr("shared by ten goroutines"))
	defer a.Close()
	var wg sync.WaitGroup
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				c, err := a.Clone()
				if err != nil || !c.PtrEq(a) {
					t.Errorf("clone: %v", err)
					return
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	eq(t, a.StrongCount(), uint64(1), "every clone released")
	s := a.Stats()
	eq(t, [2]uint64{s.Clones, s.Copies}, [2]uint64{10000, 0}, "clones, copies")
}

func TestTwentyGoroutinesReading(t *testing.T) {
	data := make([]byte, 256)
	for i := range data {
		data[i] = byte(i)
	}
	a := must[*libcow.Buf](t)(libcow.NewBuf(data))
	defer a.Close()
	v := must[*libcow.Vec[int64]](t)(libcow.NewVec([]int64{1, 2, 3, 4, 5}))
	defer v.Close()
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		mine := must[*libcow.Buf](t)(a.Clone())
		wg.Add(1)
		go func(g int, mine *libcow.Buf) {
			defer wg.Done()
			defer mine.Close()
			for i := 0; i < 100; i++ {
				mine.View(func(b []byte) {
					if len(b) != 256 || b[g] != byte(g) {
						t.Errorf("goroutine %d read %d bytes", g, len(b))
					}
				})
				sum := 0
				for _, x := range a.Bytes() {
					sum += int(x)
				}
				var vsum int64
				v.Range(func(_ int, x int64) bool { vsum += x; return true })
				if sum != 255*128 || vsum != 15 || !mine.PtrEq(a) {
					t.Errorf("goroutine %d: sum %d, vector sum %d", g, sum, vsum)
				}
			}
		}(g, mine)
	}
	wg.Wait()
	eq(t, a.StrongCount(), uint64(1), "all readers closed")
	eq(t, a.Stats().Copies, uint64(0), "reading never copies")
}

func TestTenGoroutinesWritingGetPrivateCopies(t *testing.T) {
	a := must[*libcow.Str](t)(libcow.NewStr("base"))
	defer a.Close()
	v := must[*libcow.Vec[uint32]](t)(libcow.NewVec(make([]uint32, 100)))
	defer v.Close()
	results := make([]*libcow.Str, 10)
	vecs := make([]*libcow.Vec[uint32], 10)
	var wg sync.WaitGroup
	for g := 0; g < 10; g++ {
		results[g] = must[*libcow.Str](t)(a.Clone())
		vecs[g] = must[*libcow.Vec[uint32]](t)(v.Clone())
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if err := results[g].Append(fmt.Sprintf("-%d", g)); err != nil {
				t.Error(err)
			}
			if err := vecs[g].Push(uint32(g)); err != nil {
				t.Error(err)
			}
		}(g)
	}
	wg.Wait()
	eq(t, a.String(), "base", "original string unchanged")
	eq(t, v.Len(), 100, "original vector unchanged")
	for g := 0; g < 10; g++ {
		eq(t, results[g].String(), fmt.Sprintf("base-%d", g), "private string copy")
		last, _ := vecs[g].Get(100)
		eq(t, last, uint32(g), "private vector copy")
		eq(t, results[g].PtrEq(a), false, "not shared")
		results[g].Close()
		vecs[g].Close()
	}
	s := a.Stats()
	eq(t, [2]uint64{s.Clones, s.Copies}, [2]uint64{10, 10}, "ten clones, ten copies")
	eq(t, v.Stats().Copies, uint64(10), "ten vector copies")
}

// ---- checkpoint: stats ----

func TestStatsCountersAndReport(t *testing.T) {
	a := must[*libcow.Buf](t)(libcow.NewBuf(make([]byte, 2048)))
	defer a.Close()
	var clones []*libcow.Buf
	for i := 0; i < 3; i++ {
		clones = append(clones, must[*libcow.Buf](t)(a.Clone()))
	}
	ok(t, clones[2].Edit(func(d []byte) { d[0] = 1 }))
	s := a.Stats()
	eq(t, s.Enabled, true, "enabled")
	eq(t, [4]uint64{s.Clones, s.Copies, s.BytesCopied, s.LiveHandles}, [4]uint64{3, 1, 2048, 4}, "counters")
	eq(t, s.LiveValues, uint64(2), "live values")
	eq(t, s.MemorySaved, uint64(4096), "(3 clones - 1 copy) * 2048 bytes")
	eq(t, s.CopyRate, 1.0/3.0, "copy rate")
	// A flat value: the copy counts in Copies, never in NodesCopied.
	eq(t, s.Representation, libcow.RepresentationFlat, "representation")
	eq(t, s.Representation.String(), "flat", "representation name")
	eq(t, [2]uint64{s.NodesCopied, s.Switches}, [2]uint64{0, 0}, "nodes copied, switches")
	report := must[string](t)(a.Report())
	lines := strings.Split(report, "\n")
	want := []string{"Clones: 3", "Copies: 1", "Copy rate: 33.3%", "Bytes copied: 2048",
		"Memory saved: 4096 bytes (0.00 MB)", "Live handles: 4"}
	for i, w := range want {
		eq(t, lines[i], w, "report line")
	}
	js := must[string](t)(a.ReportJSON())
	eq(t, strings.Contains(js, `"clones":3`) && strings.Contains(js, `"copies":1`), true, js)
	for _, c := range clones {
		c.Close()
	}
	q := must[*libcow.Str](t)(libcow.NewStr("quiet", libcow.Options{NoStats: true}))
	defer q.Close()
	q2 := must[*libcow.Str](t)(q.Clone())
	defer q2.Close()
	eq(t, q.Stats().Enabled || q.Stats().Clones != 0, false, "statistics off")
	e := must[*libcow.Str](t)(libcow.NewStr("eager", libcow.Options{Strategy: libcow.Eager}))
	defer e.Close()
	e2 := must[*libcow.Str](t)(e.Clone())
	defer e2.Close()
	eq(t, e.PtrEq(e2) || e.Stats().Copies != 1, false, "eager clone copies")
}

// ---- the finalizer safety net and leaks ----

// settle runs the collector until finalizers stop changing libcow's live
// counters (three equal readings in a row).
func settle() libcow.GlobalStats {
	last, same := libcow.ReadGlobalStats(), 0
	for i := 0; i < 200 && same < 3; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		g := libcow.ReadGlobalStats()
		if g == last {
			same++
		} else {
			last, same = g, 0
		}
	}
	return last
}

func TestFinalizerReleasesForgottenValues(t *testing.T) {
	before := settle()
	kept := make([]*libcow.Str, 100)
	for i := range kept {
		kept[i] = must[*libcow.Str](t)(libcow.NewStr("forgotten, never closed"))
	}
	eq(t, libcow.ReadGlobalStats().LiveValues, before.LiveValues+100, "values alive")
	// kept is dead from here on: only the finalizers can release the values.
	deadline := time.Now().Add(10 * time.Second)
	live := libcow.ReadGlobalStats().LiveValues
	for live != before.LiveValues && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		live = libcow.ReadGlobalStats().LiveValues
	}
	eq(t, live, before.LiveValues, "the finalizers released them")
}

func TestNothingLeaks(t *testing.T) {
	before := settle()
	func() {
		s := must[*libcow.Str](t)(libcow.NewStr("x"))
		defer s.Close()
		c := must[*libcow.Str](t)(s.Clone())
		ok(t, c.Append("y"))
		eq(t, must[string](t)(c.Into()), "xy", "str into")
		b := must[*libcow.Buf](t)(libcow.NewBuf([]byte("bytes")))
		defer b.Close()
		sl := must[*libcow.Buf](t)(b.Slice(1, 2))
		sl.Close()
		v := must[*libcow.Vec[int16]](t)(libcow.NewVec([]int16{1, 2}))
		defer v.Close()
		w := must[*libcow.Vec[int16]](t)(v.Clone())
		ok(t, w.Push(3))
		eq(t, len(must[[]int16](t)(w.Into())), 3, "vec into")
		m := must[*libcow.Map[string, uint8]](t)(libcow.NewMap[string, uint8]())
		defer m.Close()
		_, _, err := m.Insert("k", 1)
		ok(t, err)
		n := must[*libcow.Map[string, uint8]](t)(m.Clone())
		_, found, err := n.Remove("k")
		ok(t, err)
		eq(t, found, true, "removed from the copy")
		n.Close()
		bx := must[*libcow.Box[[2]uint64]](t)(libcow.NewBox([2]uint64{1, 2}))
		defer bx.Close()
		by := must[*libcow.Box[[2]uint64]](t)(bx.Clone())
		ok(t, by.Update(func(p *[2]uint64) { p[0] = 9 }))
		eq(t, must[[2]uint64](t)(by.Into()), [2]uint64{9, 2}, "box into")
		must[string](t)(s.Report())
	}()
	eq(t, libcow.ReadGlobalStats(), before, "every value and block freed")
	eq(t, libcow.Version(), uint32(200), "version 0.2.0")
	eq(t, libcow.VersionString(), "0.2.0", "version string")
}

// A callback lent a value's memory (View, Range, Edit, Update) must not
// write, hand over or close that value, nor clone it while writing: the
// binding panics rather than let the callback read freed memory or write
// through a clone.
func TestUsingAValueInsideItsOwnCallbackPanics(t *testing.T) {
	panics := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Fatalf("%s: no panic", what)
			}
		}()
		f()
	}
	v := must[*libcow.Vec[uint64]](t)(libcow.NewVec([]uint64{1, 2, 3, 4}))
	defer v.Close()
	panics("Push inside Range", func() { v.Range(func(int, uint64) bool { _ = v.Push(5); return true }) })
	panics("Close inside View", func() { _ = v.View(func([]uint64) { v.Close() }) })
	panics("Clone inside Edit", func() { _ = v.Edit(func([]uint64) { _, _ = v.Clone() }) })
	// After the panics the loans are over: the value works as before.
	eq(t, v.Len(), 4, "unchanged")
	ok(t, v.Push(5))
	// Reading and cloning inside a read loan is fine.
	ok(t, v.View(func(items []uint64) {
		c := must[*libcow.Vec[uint64]](t)(v.Clone())
		c.Close()
		eq(t, len(items), 5, "lent elements")
	}))
	m := must[*libcow.Map[uint64, uint64]](t)(libcow.NewMap[uint64, uint64]())
	defer m.Close()
	_, _, err := m.Insert(1, 1)
	ok(t, err)
	panics("Insert inside Update", func() {
		_, _ = m.Update(1, func(p *uint64) { _, _, _ = m.Insert(2, 2) })
	})
	b := must[*libcow.Box[uint64]](t)(libcow.NewBox[uint64](7))
	defer b.Close()
	panics("Into inside Update", func() { _ = b.Update(func(*uint64) { _, _ = b.Into() }) })
	s := must[*libcow.Str](t)(libcow.NewStr("text"))
	defer s.Close()
	panics("Append inside View", func() { s.View(func([]byte) { _ = s.Append("!") }) })
	eq(t, s.String(), "text", "unchanged")
}

// Zero-sized values box too (libcow wants at least one byte, a multiple of
// the alignment).
func TestZeroSizedBox(t *testing.T) {
	b := must[*libcow.Box[struct{}]](t)(libcow.NewBox(struct{}{}))
	defer b.Close()
	c := must[*libcow.Box[struct{}]](t)(b.Clone())
	ok(t, c.Update(func(*struct{}) {}))
	c.Close()
}

// ---- checkpoint: adaptive vector ----

// An Adaptive vector written after every clone becomes a tree at its second
// copy; its elements stay readable by index.
func TestVectorAdaptive(t *testing.T) {
	items := make([]uint64, 1000)
	for i := range items {
		items[i] = uint64(i)
	}
	cur := must[*libcow.Vec[uint64]](t)(libcow.NewVec(items, libcow.Options{Strategy: libcow.Adaptive, ThresholdBytes: 1024}))
	eq(t, cur.Stats().Representation, libcow.RepresentationFlat, "representation at first")
	for round := uint64(1); round <= 2; round++ {
		next := must[*libcow.Vec[uint64]](t)(cur.Clone())
		_, err := next.Set(0, round)
		ok(t, err)
		cur.Close()
		cur = next
	}
	defer cur.Close()
	st := cur.Stats()
	eq(t, st.Representation, libcow.RepresentationTree, "representation after two copies")
	eq(t, st.Switches, uint64(1), "switches")
	_, err := cur.DataPtr()
	isErr(t, err, libcow.ErrNotContiguous, "DataPtr of a tree")
	x, found := cur.Get(0)
	eq(t, found && x == 2, true, "element 0")
	x, found = cur.Get(999)
	eq(t, found && x == 999, true, "element 999")
}
