package libcow_test

import (
	"fmt"

	"libcow.dev/libcow"
)

// The README's example.
func Example() {
	a, _ := libcow.NewStr("hello")
	defer a.Close()
	b, _ := a.Clone() // O(1): shares the text
	defer b.Close()
	_ = b.Append(" world") // b is shared: it gets a private copy
	fmt.Println(a, b, a.StrongCount())
	v, _ := libcow.NewVec([]int64{1, 2, 3})
	defer v.Close()
	_ = v.Push(4) // unique: written in place
	fmt.Println(v.Slice(), v.Stats().Copies)
	// Output:
	// hello hello world 1
	// [1 2 3 4] 0
}
