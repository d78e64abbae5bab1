package builder_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func get(t *testing.T, path, key string) string {
	t.Helper()
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v, err := d.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

// Ensure nothing appears at the target until Commit, and Abort leaves the
// parent directory exactly as it was.
func TestBuilder_AbortLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	b, err := builder.Create(filepath.Join(parent, "d"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Add([]byte("a"), []byte("1"))
	if _, err := os.Stat(filepath.Join(parent, "d")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("target exists before Commit: %v", err)
	}
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	if n := entries(t, parent); len(n) != 0 {
		t.Fatalf("after Abort the parent holds %q", n)
	}
}

// Ensure an existing dictionary is refused without Force, survives a failed
// build untouched, and is replaced atomically with Force.
func TestBuilder_Replace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	testutil.Build(t, path, []testutil.KV{{Key: []byte("k"), Value: []byte("old")}}, 1, nil)

	if _, err := builder.Create(path, nil); !errors.Is(err, builder.ErrExists) {
		t.Fatalf("Create over existing: %v, want ErrExists", err)
	}

	// A build that fails (out-of-order keys) leaves the old one intact.
	b, err := builder.Create(path, &builder.Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Add([]byte("z"), []byte("1"))
	if err := b.Add([]byte("a"), []byte("2")); !errors.Is(err, fst.ErrOutOfOrder) {
		t.Fatalf("out-of-order Add: %v", err)
	}
	if _, err := b.Commit(); err == nil {
		t.Fatal("Commit after a failed Add succeeded")
	}
	if v := get(t, path, "k"); v != "old" {
		t.Fatalf("old dictionary damaged: %q", v)
	}
	if n := entries(t, filepath.Dir(path)); len(n) != 1 {
		t.Fatalf("temporary files left: %q", n)
	}

	// A reader holding the old dictionary keeps reading it across a Force
	// replacement.
	old, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	testutil.Build(t, path, []testutil.KV{{Key: []byte("k"), Value: []byte("new")}}, 1, &builder.Options{Force: true})
	if v := get(t, path, "k"); v != "new" {
		t.Fatalf("after Force: %q", v)
	}
	if v, err := old.Get([]byte("k")); err != nil || string(v) != "old" {
		t.Fatalf("open reader after replacement: %q, %v", v, err)
	}
	if n := entries(t, filepath.Dir(path)); len(n) != 1 {
		t.Fatalf("files left beside the dictionary: %q", n)
	}
}

// Ensure Force never deletes something that is not a dictionary.
func TestBuilder_ForceRefusesNonDict(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	os.WriteFile(file, []byte("precious"), 0o644)
	if _, err := builder.Create(file, &builder.Options{Force: true}); !errors.Is(err, builder.ErrNotDict) {
		t.Fatalf("Force over a file: %v", err)
	}
	full := filepath.Join(dir, "home")
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "thesis.tex"), []byte("precious"), 0o644)
	if _, err := builder.Create(full, &builder.Options{Force: true}); !errors.Is(err, builder.ErrNotDict) {
		t.Fatalf("Force over a non-empty directory: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(full, "thesis.tex")); string(b) != "precious" {
		t.Fatal("data destroyed")
	}
}

// Ensure a target created by someone else during the build is not
// overwritten.
func TestBuilder_TargetAppearsDuringBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	b, err := builder.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Add([]byte("a"), []byte("1"))
	os.Mkdir(path, 0o755)
	if _, err := b.Commit(); !errors.Is(err, builder.ErrExists) {
		t.Fatalf("Commit: %v, want ErrExists", err)
	}
	if n := entries(t, filepath.Dir(path)); len(n) != 1 {
		t.Fatalf("left behind: %q", n)
	}
}

// Ensure partitions written concurrently make one dictionary, empty
// partitions are dropped, and overlapping partitions are refused.
func TestBuilder_Partitions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	b, err := builder.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	ranges := [][]string{{"a", "b"}, {}, {"c", "d", "e"}}
	var parts []*builder.Partition
	for range ranges {
		p, err := b.NewPartition()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	var wg sync.WaitGroup
	for i, keys := range ranges {
		wg.Go(func() {
			for _, k := range keys {
				if err := parts[i].Add([]byte(k), []byte("v"+k)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	m, err := b.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if m.Keys != 5 || len(m.Partitions) != 2 {
		t.Fatalf("keys %d, partitions %d; want 5, 2", m.Keys, len(m.Partitions))
	}
	if v := get(t, path, "d"); v != "vd" {
		t.Fatalf("Get(d) = %q", v)
	}

	b2, _ := builder.Create(filepath.Join(t.TempDir(), "d"), nil)
	p1, _ := b2.NewPartition()
	p2, _ := b2.NewPartition()
	p1.Add([]byte("m"), nil)
	p2.Add([]byte("c"), nil)
	if _, err := b2.Commit(); !errors.Is(err, builder.ErrOverlap) {
		t.Fatalf("overlapping partitions: %v", err)
	}
}

// Ensure the builder rejects duplicates and over-long keys with errors that
// name the keys, and that its error is sticky.
func TestBuilder_BadKeys(t *testing.T) {
	b, err := builder.Create(filepath.Join(t.TempDir(), "d"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	b.Add([]byte("dup"), nil)
	err = b.Add([]byte("dup"), nil)
	if !errors.Is(err, fst.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if err2 := b.Add([]byte("zzz"), nil); !errors.Is(err2, fst.ErrDuplicate) {
		t.Fatalf("error not sticky: %v", err2)
	}
	b2, _ := builder.Create(filepath.Join(t.TempDir(), "d"), nil)
	defer b2.Abort()
	if err := b2.Add(make([]byte, fst.MaxKeyLen+1), nil); !errors.Is(err, fst.ErrKeyTooLong) {
		t.Fatalf("long key: %v", err)
	}
}

// Ensure the dictionary directory is readable by other users (workers
// often run as another account), unlike MkdirTemp's default 0700.
func TestBuilder_Permissions(t *testing.T) {
	path := testutil.MustBuild(t, []testutil.KV{{Key: []byte("k"), Value: []byte("v")}}, 1, nil)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o055 != 0o055 {
		t.Fatalf("dictionary directory mode %v, want group and others to read it", st.Mode().Perm())
	}
}
