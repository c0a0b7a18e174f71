//go:build cow_static

package libcow

// With -tags cow_static: libcow.a and what it needs, cow.pc's Libs.private
// (cgo's pkg-config directive has no --static, and its -lcow would pick
// libcow.so). -l:libcow.a names the archive itself, so an installed
// libcow.so beside it is never used. The compiler finds cow.h and libcow.a in
// its default paths (/usr/local among them); for another prefix set
//   CGO_CFLAGS="$(pkg-config --cflags cow)"
//   CGO_LDFLAGS="$(pkg-config --libs-only-L cow)"

// #cgo LDFLAGS: -l:libcow.a -lstdc++ -lm -lpthread
import "C"
