package builder_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

func kv(k, v string) []testutil.KV { return []testutil.KV{{Key: []byte(k), Value: []byte(v)}} }

// Ensure Force onto a symbolic link to a dictionary ("build a new
// version, flip the link") writes the new dictionary beside the old
// target, flips the link atomically in the same relative or absolute
// style, keeps the previous version (and its open readers) intact.
func TestBuilder_ForceSymlink(t *testing.T) {
	for _, abs := range []bool{false, true} {
		t.Run(map[bool]string{false: "relative", true: "absolute"}[abs], func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "releases"), 0o755)
			v1 := filepath.Join(dir, "releases", "v1")
			testutil.Build(t, v1, kv("k", "old"), 1, nil)
			text := filepath.Join("releases", "v1")
			if abs {
				text = v1
			}
			link := filepath.Join(dir, "current")
			if err := os.Symlink(text, link); err != nil {
				t.Fatal(err)
			}
			old, err := reader.Open(link, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()

			now := time.Date(2026, 12, 2, 0, 15, 0, 0, time.UTC)
			b, err := builder.Create(link, &builder.Options{Force: true, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, "releases", "current.20261202T001500Z")
			if b.Path() != want {
				t.Fatalf("Path %s, want %s", b.Path(), want)
			}
			if err := b.Add([]byte("k"), []byte("new")); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			got, err := os.Readlink(link)
			wantText := filepath.Join(filepath.Dir(text), "current.20261202T001500Z")
			if err != nil || got != wantText {
				t.Fatalf("link now %q (%v), want %q", got, err, wantText)
			}
			if v := get(t, link, "k"); v != "new" {
				t.Fatalf("through the link: %q", v)
			}
			if v := get(t, v1, "k"); v != "old" {
				t.Fatalf("previous version: %q", v)
			}
			if v, err := old.Get([]byte("k")); err != nil || string(v) != "old" {
				t.Fatalf("open reader of the previous version: %q %v", v, err)
			}
			for _, d := range []string{dir, filepath.Join(dir, "releases")} {
				for _, n := range entries(t, d) {
					if strings.HasPrefix(n, ".") {
						t.Errorf("left %s in %s", n, d)
					}
				}
			}
			// A second build in the same second gets its own directory.
			testutil.Build(t, link, kv("k", "newer"), 1, &builder.Options{Force: true, Now: func() time.Time { return now }})
			if v := get(t, link, "k"); v != "newer" {
				t.Fatalf("second flip: %q", v)
			}
			if got, _ := os.Readlink(link); !strings.HasSuffix(got, "current.20261202T001500Z-2") {
				t.Fatalf("second flip points at %q", got)
			}
		})
	}
}

// Ensure a link to something that is not a dictionary is refused with a
// message saying what it points at, and is left alone; and that without
// Force a link is just an existing target.
func TestBuilder_ForceSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("data"), 0o644)
	nondict := filepath.Join(dir, "nondict")
	os.Mkdir(nondict, 0o755)
	os.WriteFile(filepath.Join(nondict, "x"), nil, 0o644)
	for name, target := range map[string]string{"to-file": file, "to-nondict": nondict, "dangling": filepath.Join(dir, "nope")} {
		link := filepath.Join(dir, name)
		os.Symlink(target, link)
		_, err := builder.Create(link, &builder.Options{Force: true})
		if !errors.Is(err, builder.ErrNotDict) || !strings.Contains(err.Error(), "symbolic link to "+target) {
			t.Errorf("%s: %v", name, err)
		}
		if got, _ := os.Readlink(link); got != target {
			t.Errorf("%s: link changed to %q", name, got)
		}
	}
	testutil.Build(t, filepath.Join(dir, "v1"), kv("k", "v"), 1, nil)
	os.Symlink("v1", filepath.Join(dir, "cur"))
	if _, err := builder.Create(filepath.Join(dir, "cur"), nil); !errors.Is(err, builder.ErrExists) {
		t.Errorf("without Force: %v", err)
	}
}
