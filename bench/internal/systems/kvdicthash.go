package systems

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/hashindex"
)

// kvDictHash is kvdict with keyed records and a hash index per partition
// (builder.Options.HashIndex, kvbuild --hash-index): Get goes through the
// index, scans read the value log sequentially.
type kvDictHash struct{}

func init() { register(kvDictHash{}) }

func (kvDictHash) Name() string           { return "kvdict-hash" }
func (kvDictHash) Path(dir string) string { return filepath.Join(dir, "kvdict-hash.dict") }

func (s kvDictHash) Build(dir, sorted, raw string) error {
	p := s.Path(dir)
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	b, err := builder.Create(p, &builder.Options{Tool: "kvbench", HashIndex: &hashindex.WriterOptions{}})
	if err != nil {
		return err
	}
	if err := ReadTSV(sorted, b.Add); err != nil {
		b.Abort()
		return err
	}
	_, err = b.Commit()
	return err
}

func (s kvDictHash) Files(dir, raw string) ([]string, error) { return filesUnder(s.Path(dir)) }

func (s kvDictHash) Open(dir, raw string) (Store, error) { return kvDict{}.openAt(s.Path(dir)) }

// kvBuildHash is kvbuild --hash-index on the unsorted TSV: build time,
// peak RSS and size only (its lookups are kvdict-hash's).
type kvBuildHash struct{}

func init() { register(kvBuildHash{}) }

func (kvBuildHash) Name() string           { return "kvbuild-hash" }
func (kvBuildHash) Path(dir string) string { return filepath.Join(dir, "kvbuild-hash.dict") }
func (kvBuildHash) BuildOnly() bool        { return true }

func (s kvBuildHash) Build(dir, sorted, raw string) error {
	bin := os.Getenv(KVBuildEnv)
	if bin == "" {
		return errors.New("kvbuild: no binary (" + KVBuildEnv + " unset)")
	}
	cmd := exec.Command(bin, "-q", "--force", "--hash-index", "-o", s.Path(dir), raw)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return errors.New("kvbuild --hash-index: " + err.Error() + ": " + strings.TrimSpace(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		LastBuildPeakRSS = ru.Maxrss * 1024
	}
	return nil
}

func (s kvBuildHash) Files(dir, raw string) ([]string, error) { return filesUnder(s.Path(dir)) }

func (s kvBuildHash) Open(dir, raw string) (Store, error) { return kvDict{}.openAt(s.Path(dir)) }
