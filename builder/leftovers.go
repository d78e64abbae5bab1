package builder

import (
	"github.com/kvdict/kvdict/internal/tmpdir"
)

// Leftover is a temporary directory of a build found by RemoveLeftovers.
type Leftover struct {
	Path  string
	Bytes int64 // size of the files in it
}

// Leftovers is what RemoveLeftovers found in one directory.
type Leftovers struct {
	// Removed lists the directories of dead builds that were removed.
	Removed []Leftover
	// Freed is the total size of Removed.
	Freed int64
	// Unproven lists directories named like a build's whose owner cannot
	// be proved dead from here: no owner record (made by a kvdict from
	// before the records, or being created at this instant), or an owner
	// on another host or in another PID namespace (container). They are
	// left alone: remove them by hand once sure no build uses them.
	Unproven []Leftover
	// Errors holds failures to remove a dead build's directory.
	Errors []error
}

// LeftoverPatterns match the names of the temporary directories kvdict
// builds make: a dictionary being built beside its target
// (".NAME.tmp-*") and the sorted runs in a temporary directory
// (".kvbuild-tmp-*").
var LeftoverPatterns = []string{".*.tmp-*", ".kvbuild-tmp-*"}

// RemoveLeftovers removes, directly inside dir, the temporary directories
// of builds that were killed (SIGKILL, the OOM killer, a crash, a reboot)
// and so could not clean up. Each temporary directory records its owning
// process (host, boot, PID namespace, PID and its start time); only those
// whose owner is provably gone are removed, never a running build's. A
// missing dir is not an error.
//
// kvbuild calls it on the directory of its target and on --tmp-dir before
// every build.
func RemoveLeftovers(dir string) (*Leftovers, error) {
	r, err := tmpdir.Sweep(dir, LeftoverPatterns...)
	if r == nil {
		return nil, err
	}
	conv := func(ls []tmpdir.Leftover) []Leftover {
		var out []Leftover
		for _, l := range ls {
			out = append(out, Leftover{l.Path, l.Bytes})
		}
		return out
	}
	return &Leftovers{Removed: conv(r.Removed), Freed: r.Freed(), Unproven: conv(r.Unproven), Errors: r.Errors}, err
}
