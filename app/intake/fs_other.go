//go:build !unix

package intake

func sameFileSystem(string, string) bool { return false }
