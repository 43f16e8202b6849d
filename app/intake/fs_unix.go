//go:build unix

package intake

import (
	"os"
	"syscall"
)

// sameFileSystem reports whether two directories are on one file system (one syncfs covers both).
func sameFileSystem(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return false
	}
	sa, okA := fa.Sys().(*syscall.Stat_t)
	sb, okB := fb.Sys().(*syscall.Stat_t)
	return okA && okB && sa.Dev == sb.Dev
}
