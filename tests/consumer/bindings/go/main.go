// A program outside the libcow repository, using the Go binding through a
// require and a replace in its go.mod. Exits non-zero when a check fails.
package main

import (
	"fmt"
	"os"
	"strings"

	"libcow.dev/libcow"
)

func check(ok bool, what string) {
	if !ok {
		fmt.Fprintln(os.Stderr, "go consumer: check failed:", what)
		os.Exit(1)
	}
}

func main() {
	check(libcow.Version() == 200, "the loaded libcow is 0.2.0")
	a, err := libcow.NewStr("hello")
	check(err == nil, "NewStr")
	defer a.Close()
	b, err := a.Clone()
	check(err == nil && b.PtrEq(a) && a.StrongCount() == 2, "a clone shares the text")
	defer b.Close()
	check(b.Append(", world") == nil, "Append")
	check(!b.PtrEq(a), "a write to a shared value copies")
	check(a.String() == "hello" && b.String() == "hello, world", "both texts")

	v, err := libcow.NewVec([]uint64{1, 2, 3})
	check(err == nil, "NewVec")
	defer v.Close()
	w, err := v.Clone()
	check(err == nil, "Clone")
	defer w.Close()
	check(v.Push(4) == nil, "Push")
	check(fmt.Sprint(v.Slice(), w.Slice()) == "[1 2 3 4] [1 2 3]", "vector and its snapshot")

	s := a.Stats()
	check(s.Clones == 1 && s.Copies == 1, "lineage statistics")
	check(s.Representation == libcow.RepresentationFlat, "flat representation")
	report, err := a.Report()
	check(err == nil && strings.HasPrefix(report, "Clones: 1\n"), "text report")
	fmt.Printf("go consumer: ok (%s %s)\n", b, libcow.VersionString())
}
