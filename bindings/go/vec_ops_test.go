package libcow_test

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"libcow.dev/libcow"
)

// Every whole-vector operation is checked under a flat (Lazy) and a tree
// (Structural) vector, against a plain Go slice.
var vecStrategies = []libcow.Strategy{libcow.Lazy, libcow.Structural}

func strategyName(s libcow.Strategy) string {
	if s == libcow.Structural {
		return "structural"
	}
	return "lazy"
}

func representationOf(s libcow.Strategy) libcow.Representation {
	if s == libcow.Structural {
		return libcow.RepresentationTree
	}
	return libcow.RepresentationFlat
}

// sevens is 0, 7, 14, ... as a vector with strategy s, and as a slice.
func sevens(t *testing.T, n int, s libcow.Strategy) (*libcow.Vec[uint64], []uint64) {
	t.Helper()
	model := make([]uint64, n)
	for i := range model {
		model[i] = 7 * uint64(i)
	}
	v := must[*libcow.Vec[uint64]](t)(libcow.NewVec(model, libcow.Options{Strategy: s}))
	t.Cleanup(v.Close)
	return v, model
}

// modelDiff is what Diff must report: the maximal runs where a and b
// differ, positions past the shorter one included.
func modelDiff(a, b []uint64) []libcow.DiffRange {
	var out []libcow.DiffRange
	n := len(a)
	if len(b) > n {
		n = len(b)
	}
	for i := 0; i < n; i++ {
		if i < len(a) && i < len(b) && a[i] == b[i] {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].Offset+out[k].Count == i {
			out[k].Count++
		} else {
			out = append(out, libcow.DiffRange{Offset: i, Count: 1})
		}
	}
	return out
}

func sameSlice[T comparable](t *testing.T, got, want []T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s: got %d elements %v..., want %d elements %v...", what, len(got), head(got), len(want), head(want))
	}
}

func head[T any](s []T) []T {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func TestVecRangeFromAndSpansFromStartAtAnIndex(t *testing.T) {
	for _, s := range vecStrategies {
		t.Run(strategyName(s), func(t *testing.T) {
			v, model := sevens(t, 3000, s)
			for _, start := range []int{0, 1, 1500, 2047, 2999, 3000} {
				var got []uint64
				first := -1
				ok(t, v.RangeFrom(start, func(i int, x uint64) bool {
					if first < 0 {
						first = i
					}
					got = append(got, x)
					return true
				}))
				sameSlice(t, got, model[start:], fmt.Sprintf("RangeFrom(%d)", start))
				if start < 3000 {
					eq(t, first, start, "the first index")
				}
				var spans []uint64
				ok(t, v.SpansFrom(start, func(at int, items []uint64) bool {
					eq(t, at, start+len(spans), "a span's start")
					spans = append(spans, items...)
					return true
				}))
				sameSlice(t, spans, model[start:], fmt.Sprintf("SpansFrom(%d)", start))
			}
			// Stopping early.
			n := 0
			ok(t, v.RangeFrom(100, func(int, uint64) bool { n++; return n < 5 }))
			eq(t, n, 5, "RangeFrom stops when fn returns false")
			isErr(t, v.RangeFrom(3001, func(int, uint64) bool { return true }), libcow.ErrRange, "past the end")
			isErr(t, v.SpansFrom(-1, func(int, []uint64) bool { return true }), libcow.ErrRange, "negative")
		})
	}
}

func TestVecSubVecCopiesARangeIntoAValueOfItsOwn(t *testing.T) {
	for _, s := range vecStrategies {
		t.Run(strategyName(s), func(t *testing.T) {
			v, model := sevens(t, 5000, s)
			mid := must[*libcow.Vec[uint64]](t)(v.SubVec(1000, 2500))
			defer mid.Close()
			sameSlice(t, mid.Slice(), model[1000:3500], "SubVec(1000, 2500)")
			eq(t, mid.Stats().Representation, representationOf(s), "the slice keeps the strategy")
			eq(t, mid.PtrEq(v), false, "a value of its own")
			whole := must[*libcow.Vec[uint64]](t)(v.SubVec(0, 5000))
			sameSlice(t, whole.Slice(), model, "the whole vector")
			whole.Close()
			empty := must[*libcow.Vec[uint64]](t)(v.SubVec(5000, 0))
			eq(t, empty.Len(), 0, "an empty slice at the end")
			empty.Close()
			for _, r := range [][2]int{{5001, 0}, {4000, 1001}, {-1, 2}, {0, -1}} {
				_, err := v.SubVec(r[0], r[1])
				isErr(t, err, libcow.ErrRange, fmt.Sprintf("SubVec(%d, %d)", r[0], r[1]))
			}
			// Writes to either stay there.
			must[uint64](t)(mid.Set(0, 1))
			must[uint64](t)(v.Set(1001, 2))
			eq(t, must[uint64](t)(v.Set(1000, 7000)), uint64(7000), "v[1000] unchanged")
			x, _ := mid.Get(1)
			eq(t, x, uint64(7*1001), "mid[1] unchanged")
		})
	}
}

func TestVecConcatAcrossRepresentationsLeavesTheArgumentUnchanged(t *testing.T) {
	for _, s := range vecStrategies {
		for _, os := range vecStrategies {
			t.Run(strategyName(s)+"+"+strategyName(os), func(t *testing.T) {
				a, modelA := sevens(t, 3000, s)
				b, modelB := sevens(t, 2000, os)
				must[uint64](t)(b.Set(0, 99))
				modelB[0] = 99
				before := must[*libcow.Vec[uint64]](t)(a.Clone())
				defer before.Close()
				ok(t, a.Concat(b))
				want := append(append([]uint64{}, modelA...), modelB...)
				sameSlice(t, a.Slice(), want, "a after Concat")
				sameSlice(t, b.Slice(), modelB, "b unchanged")
				sameSlice(t, before.Slice(), modelA, "the clone taken before")
				eq(t, a.Stats().Representation, representationOf(s), "a keeps its representation")
				ok(t, b.Concat(b))
				sameSlice(t, b.Slice(), append(append([]uint64{}, modelB...), modelB...), "b doubled")
				empty := must[*libcow.Vec[uint64]](t)(libcow.NewVec[uint64](nil))
				defer empty.Close()
				ok(t, a.Concat(empty))
				eq(t, a.Len(), 5000, "an empty vector adds nothing")
			})
		}
	}
}

func TestVecEqualAndHashAgreeAcrossRepresentations(t *testing.T) {
	for _, s := range vecStrategies {
		t.Run(strategyName(s), func(t *testing.T) {
			v, model := sevens(t, 4000, s)
			flat := must[*libcow.Vec[uint64]](t)(libcow.NewVec(model))
			defer flat.Close()
			tree := must[*libcow.Vec[uint64]](t)(libcow.NewVec(model, libcow.Options{Strategy: libcow.Structural}))
			defer tree.Close()
			c := must[*libcow.Vec[uint64]](t)(v.Clone())
			defer c.Close()
			for name, o := range map[string]*libcow.Vec[uint64]{"flat": flat, "tree": tree, "clone": c} {
				eq(t, v.Equal(o), true, "equal to the "+name)
				eq(t, v.Hash(), o.Hash(), "hashes like the "+name)
			}
			must[uint64](t)(c.Set(3999, 1))
			eq(t, v.Equal(c), false, "one element differs")
			if v.Hash() == c.Hash() {
				t.Fatalf("one element differs, the hashes do not")
			}
			must[uint64](t)(c.Set(3999, 7*3999))
			eq(t, v.Equal(c), true, "equal again after the set back")
			eq(t, v.Hash(), c.Hash(), "hashes alike again")
			_, popped, err := c.Pop()
			ok(t, err)
			eq(t, popped, true, "popped")
			eq(t, v.Equal(c), false, "a prefix is not equal")
			e1 := must[*libcow.Vec[uint64]](t)(libcow.NewVec[uint64](nil, libcow.Options{Strategy: s}))
			defer e1.Close()
			e2 := must[*libcow.Vec[uint64]](t)(libcow.NewVec[uint64](nil))
			defer e2.Close()
			eq(t, e1.Equal(e2), true, "empty vectors")
			eq(t, e1.Hash(), e2.Hash(), "empty vectors hash alike")
			// Floats by libcow's equality: NaN equals NaN, 0.0 equals -0.0.
			f := must[*libcow.Vec[float64]](t)(libcow.NewVec([]float64{math.NaN(), 0}, libcow.Options{Strategy: s}))
			defer f.Close()
			g := must[*libcow.Vec[float64]](t)(libcow.NewVec([]float64{math.NaN(), math.Copysign(0, -1)}))
			defer g.Close()
			eq(t, f.Equal(g), true, "NaN and signed zeros")
			eq(t, f.Hash(), g.Hash(), "NaN and signed zeros hash alike")
		})
	}
}

func TestVecDiffReportsTheRangesWhereTwoVersionsDifferAndStops(t *testing.T) {
	for _, s := range vecStrategies {
		t.Run(strategyName(s), func(t *testing.T) {
			a, modelA := sevens(t, 5000, s)
			b := must[*libcow.Vec[uint64]](t)(a.Clone())
			defer b.Close()
			modelB := append([]uint64{}, modelA...)
			for _, i := range []int{3, 4, 5, 2600, 4998, 4999} {
				must[uint64](t)(b.Set(i, 1))
				modelB[i] = 1
			}
			ok(t, b.Extend([]uint64{8, 9}))
			modelB = append(modelB, 8, 9)
			want := modelDiff(modelA, modelB)
			sameSlice(t, want, []libcow.DiffRange{{3, 3}, {2600, 1}, {4998, 4}}, "the model")
			sameSlice(t, must[[]libcow.DiffRange](t)(a.DiffRanges(b)), want, "a against b")
			sameSlice(t, must[[]libcow.DiffRange](t)(b.DiffRanges(a)), want, "b against a")

			// Against the other representation of the same elements.
			other := libcow.Structural
			if s == libcow.Structural {
				other = libcow.Lazy
			}
			c := must[*libcow.Vec[uint64]](t)(libcow.NewVec(modelB, libcow.Options{Strategy: other}))
			defer c.Close()
			sameSlice(t, must[[]libcow.DiffRange](t)(a.DiffRanges(c)), want, "a against "+strategyName(other))
			calls := 0
			stopped := must[bool](t)(b.Diff(c, func(int, int) bool { calls++; return true }))
			eq(t, stopped, false, "not stopped")
			eq(t, calls, 0, "equal elements: no range")

			// Returning false stops after that range.
			var seen []libcow.DiffRange
			stopped = must[bool](t)(a.Diff(b, func(off, n int) bool {
				seen = append(seen, libcow.DiffRange{Offset: off, Count: n})
				return len(seen) < 2
			}))
			eq(t, stopped, true, "stopped")
			sameSlice(t, seen, want[:2], "the ranges before the stop")

			// Against an empty vector every position differs.
			empty := must[*libcow.Vec[uint64]](t)(libcow.NewVec[uint64](nil))
			defer empty.Close()
			sameSlice(t, must[[]libcow.DiffRange](t)(a.DiffRanges(empty)), []libcow.DiffRange{{0, 5000}}, "against empty")
		})
	}
}

func TestVecDiffCallbackPanicsReachTheCallerAndWritesInsideItPanic(t *testing.T) {
	for _, s := range vecStrategies {
		t.Run(strategyName(s), func(t *testing.T) {
			a, _ := sevens(t, 100, s)
			b := must[*libcow.Vec[uint64]](t)(a.Clone())
			defer b.Close()
			must[uint64](t)(b.Set(10, 0))
			must[uint64](t)(b.Set(50, 0))
			calls := 0
			func() {
				defer func() {
					if r := recover(); r != "stop here" {
						t.Fatalf("the callback's panic: got %v", r)
					}
				}()
				_, _ = a.Diff(b, func(int, int) bool { calls++; panic("stop here") })
				t.Fatalf("Diff returned after its callback panicked")
			}()
			eq(t, calls, 1, "no call after the panic")
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("a write inside Diff's callback did not panic")
					}
				}()
				_, _ = a.Diff(b, func(int, int) bool { _ = b.Push(1); return true })
			}()
			// The loans are over: both work as before.
			eq(t, b.Len(), 100, "b unchanged")
			sameSlice(t, must[[]libcow.DiffRange](t)(a.DiffRanges(b)), []libcow.DiffRange{{10, 1}, {50, 1}}, "after the panics")
		})
	}
}
