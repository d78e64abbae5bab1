package systems

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// KVBuildEnv names the kvbuild binary the harness built for this run.
const KVBuildEnv = "KVBENCH_KVBUILD"

// kvBuild is the user's path to a kvdict dictionary: the kvbuild CLI on the
// original, unsorted TSV (parse, sort in bounded memory, de-duplicate,
// build partitions on every core), with its default flags (kvbuild), with
// --hash-index (kvbuild-hash) or with --compression zstd (kvbuild-zstd:
// training beside the sort, the registry on). It is measured for build
// time, peak RSS and size only: its lookups are kvdict's, kvdict-hash's
// and kvdict-zstd's.
type kvBuild struct {
	name  string
	flags []string
}

func init() {
	register(kvBuild{name: "kvbuild"})
	register(kvBuild{name: "kvbuild-hash", flags: []string{"--hash-index"}})
	register(kvBuild{name: "kvbuild-zstd", flags: []string{"--compression", "zstd"}})
}

func (s kvBuild) Name() string           { return s.name }
func (s kvBuild) Path(dir string) string { return filepath.Join(dir, s.name+".dict") }

// BuildOnly marks systems measured for building only.
func (kvBuild) BuildOnly() bool { return true }

// LastBuildPeakRSS is the peak RSS of the last external build process
// (its ru_maxrss, which also counts our own small RSS at the exec).
var LastBuildPeakRSS int64

func (s kvBuild) Build(dir, sorted, raw string) error {
	bin := os.Getenv(KVBuildEnv)
	if bin == "" {
		return errors.New("kvbuild: no binary (" + KVBuildEnv + " unset)")
	}
	args := append([]string{"-q", "--force"}, s.flags...)
	cmd := exec.Command(bin, append(args, "-o", s.Path(dir), raw)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return errors.New(strings.Join(append([]string{"kvbuild"}, s.flags...), " ") + ": " + err.Error() + ": " + strings.TrimSpace(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		LastBuildPeakRSS = ru.Maxrss * 1024
	}
	return nil
}

func (s kvBuild) Files(dir, raw string) ([]string, error) { return filesUnder(s.Path(dir)) }

func (s kvBuild) Open(dir, raw string) (Store, error) { return openKVDict(s.Path(dir)) }
