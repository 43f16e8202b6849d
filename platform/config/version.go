package config

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// VersionLine says which build this is: the desk's version v, the Go toolchain and the
// Temporal SDK and server it was built with (as `desk version` prints it).
func VersionLine(v string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "abusedesk " + v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "abusedesk %s (%s", v, bi.GoVersion)
	for _, dep := range bi.Deps {
		if dep.Path == "go.temporal.io/sdk" || dep.Path == "go.temporal.io/server" {
			fmt.Fprintf(&b, ", %s %s", strings.TrimPrefix(dep.Path, "go.temporal.io/"), dep.Version)
		}
	}
	b.WriteString(")")
	return b.String()
}
