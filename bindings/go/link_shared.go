//go:build !cow_static

package libcow

// The default: libcow.so, with the flags pkg-config gives for cow.pc.

// #cgo pkg-config: cow
import "C"
