package libcow_test

import (
	"errors"
	"reflect"
	"sort"
	"testing"

	"libcow.dev/libcow"
)

// Every whole-map operation is checked under a flat (Lazy) and a tree
// (Structural) map, against a plain Go map.

func mapFrom(t *testing.T, model map[uint64]uint64, s libcow.Strategy) *libcow.Map[uint64, uint64] {
	t.Helper()
	m := must[*libcow.Map[uint64, uint64]](t)(libcow.NewMap[uint64, uint64](libcow.Options{Strategy: s}))
	t.Cleanup(m.Close)
	for k, v := range model {
		if _, _, err := m.Insert(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func otherStrategy(s libcow.Strategy) libcow.Strategy {
	if s == libcow.Structural {
		return libcow.Lazy
	}
	return libcow.Structural
}

func sortChanges[K uint64 | string](cs []libcow.MapChange[K, uint64]) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Key < cs[j].Key })
}

// modelMapDiff is what Diff(a -> b) must report, sorted by key.
func modelMapDiff(a, b map[uint64]uint64) []libcow.MapChange[uint64, uint64] {
	var out []libcow.MapChange[uint64, uint64]
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, libcow.MapChange[uint64, uint64]{Kind: libcow.MapRemoved, Key: k, Old: v})
		} else if w != v {
			out = append(out, libcow.MapChange[uint64, uint64]{Kind: libcow.MapChanged, Key: k, Old: v, New: w})
		}
	}
	for k, w := range b {
		if _, ok := a[k]; !ok {
			out = append(out, libcow.MapChange[uint64, uint64]{Kind: libcow.MapAdded, Key: k, New: w})
		}
	}
	sortChanges(out)
	return out
}

func mapDiff(t *testing.T, a, b *libcow.Map[uint64, uint64]) []libcow.MapChange[uint64, uint64] {
	t.Helper()
	got, err := a.DiffChanges(b)
	if err != nil {
		t.Fatal(err)
	}
	sortChanges(got)
	return got
}

func TestMapEqualHashDiff(t *testing.T) {
	for _, s := range vecStrategies {
		t.Run(strategyName(s), func(t *testing.T) {
			modelA := map[uint64]uint64{}
			for k := uint64(0); k < 3000; k++ {
				modelA[k*11] = k
			}
			a := mapFrom(t, modelA, s)
			if got := a.Stats().Representation; got != representationOf(s) {
				t.Fatalf("representation %v", got)
			}
			b := must[*libcow.Map[uint64, uint64]](t)(a.Clone())
			defer b.Close()
			if !a.Equal(b) || a.Hash() != b.Hash() || len(mapDiff(t, a, b)) != 0 {
				t.Fatal("a clone differs")
			}

			modelB := map[uint64]uint64{}
			for k, v := range modelA {
				modelB[k] = v
			}
			for _, k := range []uint64{5, 100001, 7} { // added
				b.Insert(k, k+1)
				modelB[k] = k + 1
			}
			for _, k := range []uint64{0, 11 * 2999} { // removed
				if _, ok, _ := b.Remove(k); !ok {
					t.Fatalf("remove %d", k)
				}
				delete(modelB, k)
			}
			for _, k := range []uint64{11, 11 * 1500, 11 * 2998} { // changed
				b.Update(k, func(v *uint64) { *v = 999999 })
				modelB[k] = 999999
			}
			b.Insert(22, 2) // the same value: not a change
			want := modelMapDiff(modelA, modelB)
			if len(want) != 8 {
				t.Fatalf("model: %d changes", len(want))
			}
			if a.Equal(b) || a.Hash() == b.Hash() {
				t.Fatal("a and b compare equal")
			}
			if got := mapDiff(t, a, b); !reflect.DeepEqual(got, want) {
				t.Fatalf("diff a b: %v, want %v", got, want)
			}
			if got, want := mapDiff(t, b, a), modelMapDiff(modelB, modelA); !reflect.DeepEqual(got, want) {
				t.Fatalf("diff b a: %v, want %v", got, want)
			}

			// The same entries in the other representation.
			c := mapFrom(t, modelB, otherStrategy(s))
			if !b.Equal(c) || b.Hash() != c.Hash() || len(mapDiff(t, b, c)) != 0 {
				t.Fatal("the other representation differs")
			}
			if got := mapDiff(t, a, c); !reflect.DeepEqual(got, want) {
				t.Fatalf("diff a c: %v, want %v", got, want)
			}

			// Returning false stops after that change.
			calls := 0
			stopped, err := a.Diff(c, func(libcow.MapChange[uint64, uint64]) bool {
				calls++
				return calls < 2
			})
			if err != nil || !stopped || calls != 2 {
				t.Fatalf("stop: stopped %v, err %v, calls %d", stopped, err, calls)
			}

			// A panic stops the walk and goes on after libcow returns.
			calls = 0
			func() {
				defer func() {
					if r := recover(); r != "stop" {
						t.Fatalf("recovered %v", r)
					}
				}()
				a.Diff(c, func(libcow.MapChange[uint64, uint64]) bool {
					calls++
					panic("stop")
				})
			}()
			if calls != 1 {
				t.Fatalf("calls after a panic: %d", calls)
			}

			// Writing a lent map inside the callback panics.
			func() {
				defer func() {
					if recover() == nil {
						t.Fatal("a write inside Diff did not panic")
					}
				}()
				a.Diff(c, func(libcow.MapChange[uint64, uint64]) bool {
					a.Insert(1, 1)
					return true
				})
			}()

			// Against an empty map every key is added.
			empty := mapFrom(t, nil, s)
			if got, want := mapDiff(t, empty, a), modelMapDiff(nil, modelA); !reflect.DeepEqual(got, want) {
				t.Fatal("diff against empty")
			}
			if empty.Equal(a) || !empty.Equal(mapFrom(t, nil, otherStrategy(s))) {
				t.Fatal("empty maps")
			}
		})
	}
}

func TestMapStringKeysDiffAndEntry(t *testing.T) {
	for _, s := range vecStrategies {
		t.Run(strategyName(s), func(t *testing.T) {
			counts := must[*libcow.Map[string, uint64]](t)(libcow.NewMap[string, uint64](libcow.Options{Strategy: s}))
			defer counts.Close()
			for _, w := range []string{"a", "b", "a", "c", "a", "b"} {
				if _, err := counts.Entry(w, 0, func(v *uint64) { *v++ }); err != nil {
					t.Fatal(err)
				}
			}
			for w, n := range map[string]uint64{"a": 3, "b": 2, "c": 1} {
				if got, _ := counts.Get(w); got != n {
					t.Fatalf("%s: %d, want %d", w, got, n)
				}
			}

			before := must[*libcow.Map[string, uint64]](t)(counts.Clone())
			defer before.Close()
			long := "a key longer than thirty-two bytes, stored apart"
			inserted, err := counts.Entry(long, 40, func(v *uint64) { *v += 2 })
			if err != nil || !inserted {
				t.Fatalf("entry: inserted %v, err %v", inserted, err)
			}
			if inserted, _ := counts.Entry(long, 0, nil); inserted {
				t.Fatal("found key reported inserted")
			}
			if got, _ := counts.Get(long); got != 42 {
				t.Fatalf("entry value %d", got)
			}
			if before.Contains(long) || before.Stats().Copies != 1 || counts.Len() != 4 {
				t.Fatal("the shared map changed, or was copied more than once")
			}
			counts.Remove("b")
			counts.Update("a", func(v *uint64) { *v = 30 })

			got, err := before.DiffChanges(counts)
			if err != nil {
				t.Fatal(err)
			}
			sortChanges(got)
			want := []libcow.MapChange[string, uint64]{
				{Kind: libcow.MapChanged, Key: "a", Old: 3, New: 30},
				{Kind: libcow.MapAdded, Key: long, New: 42},
				{Kind: libcow.MapRemoved, Key: "b", Old: 2},
			}
			sortChanges(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("diff: %v, want %v", got, want)
			}
			if before.Equal(counts) || before.Hash() == counts.Hash() {
				t.Fatal("equal after changes")
			}

			if _, err := counts.Entry("\xff", 0, nil); !errors.Is(err, libcow.ErrUTF8) {
				t.Fatalf("invalid key: %v", err)
			}
		})
	}
}
