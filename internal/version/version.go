// Package version is the one place kvdict's release version is set, so
// kvbuild (which records it in every manifest) and kvlookup agree.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the release version. Release builds may override it with
// -ldflags "-X github.com/kvdict/kvdict/internal/version.Version=v0.2.0".
var Version = "v0.1.0"

// String returns the version to show for a binary: the module version
// when the binary was built by `go install module@version`, else Version,
// followed by the Go version.
func String() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return v + " (" + runtime.Version() + ")"
}
