package reader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// versionKVs is generation gen of a small dictionary: every value names
// its generation, so a reader can tell whether one Dict mixes two.
func versionKVs(gen int) []testutil.KV {
	kvs := make([]testutil.KV, 0, 2001)
	for i := range 2000 {
		kvs = append(kvs, testutil.KV{Key: fmt.Appendf(nil, "key/%05d", i), Value: fmt.Appendf(nil, "gen %d value %d", gen, i)})
	}
	// A size that differs between generations, so a mixed Open would
	// also see wrong sizes, not only wrong checksums.
	return append(kvs, testutil.KV{Key: []byte("gen"), Value: bytes.Repeat([]byte{'g'}, gen%97)})
}

// Ensure that Open never fails and never mixes versions while the
// dictionary is replaced (builder Force) over and over. Before Open
// resolved the directory once, about 0.3% of such Opens failed with a
// false ErrCorrupt.
func TestOpen_DuringForceReplace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.kvd")
	testutil.Build(t, path, versionKVs(0), 2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	var swaps, opens atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(1)
	go func() { // the writer: replace the dictionary back to back
		defer wg.Done()
		for gen := 1; ctx.Err() == nil; gen++ {
			if err := forceBuild(path, versionKVs(gen)); err != nil {
				errc <- err
				cancel()
				return
			}
			swaps.Add(1)
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := openAndCheck(path); err != nil {
					errc <- err
					cancel()
					return
				}
				opens.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	t.Logf("%d opens during %d replacements", opens.Load(), swaps.Load())
	if swaps.Load() < 2 || opens.Load() < 10 {
		t.Fatalf("only %d opens during %d replacements: the test proved nothing", opens.Load(), swaps.Load())
	}
}

// openAndCheck opens path and checks that every value it reads belongs to
// one generation.
func openAndCheck(path string) error {
	d, err := reader.Open(path, nil)
	if err != nil {
		return fmt.Errorf("Open: %w", err)
	}
	defer d.Close()
	g, err := d.Get([]byte("gen"))
	if err != nil {
		return fmt.Errorf("Get(gen): %w", err)
	}
	for _, i := range []int{0, 999, 1999} {
		v, err := d.Get(fmt.Appendf(nil, "key/%05d", i))
		if err != nil {
			return fmt.Errorf("Get(key/%05d): %w", i, err)
		}
		var gen, n int
		if _, err := fmt.Sscanf(string(v), "gen %d value %d", &gen, &n); err != nil || n != i || gen%97 != len(g) {
			return fmt.Errorf("key/%05d = %q in a dictionary whose gen key has %d bytes: versions mixed", i, v, len(g))
		}
	}
	return nil
}

// Ensure that real damage is still reported at once, not retried away:
// a data file missing from a directory nobody replaces is ErrCorrupt.
func TestOpen_DamageNotRetried(t *testing.T) {
	path := testutil.MustBuild(t, versionKVs(1), 2, nil)
	fstName, _ := builder.PartitionNames(1)
	if err := removeFile(filepath.Join(path, fstName)); err != nil {
		t.Fatal(err)
	}
	_, err := reader.Open(path, nil)
	if !errors.Is(err, reader.ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
	if strings.Contains(err.Error(), "was replaced") {
		t.Fatalf("Open retried a damaged dictionary: %v", err)
	}
}

func removeFile(name string) error { return os.Remove(name) }

// forceBuild replaces the dictionary at path by kvs (sorted), in two
// partitions, as kvbuild --force does.
func forceBuild(path string, kvs []testutil.KV) error {
	b, err := builder.Create(path, &builder.Options{Force: true})
	if err != nil {
		return err
	}
	defer b.Abort()
	slices.SortFunc(kvs, func(a, b testutil.KV) int { return bytes.Compare(a.Key, b.Key) })
	for i, half := range [][]testutil.KV{kvs[:len(kvs)/2], kvs[len(kvs)/2:]} {
		p, err := b.NewPartition()
		if err != nil {
			return err
		}
		for _, kv := range half {
			if err := p.Add(kv.Key, kv.Value); err != nil {
				return fmt.Errorf("partition %d: %w", i, err)
			}
		}
	}
	_, err = b.Commit()
	return err
}
