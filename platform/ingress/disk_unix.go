//go:build unix

package ingress

import "syscall"

// FreeBytes is the space an unprivileged writer may still use on dir's file system.
func FreeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
