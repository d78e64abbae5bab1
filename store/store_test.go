package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/store"
)

// publish writes generation gen (keys k0..k99 whose values name gen) as
// the store's next version.
func publish(t testing.TB, dir string, gen int) store.Version {
	t.Helper()
	v, err := publishErr(dir, gen)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func publishErr(dir string, gen int) (store.Version, error) {
	p, err := store.Begin(dir, nil)
	if err != nil {
		return store.Version{}, err
	}
	defer p.Abort()
	for i := range 100 {
		if err := p.Add(fmt.Appendf(nil, "k%02d", i), fmt.Appendf(nil, "gen%d", gen)); err != nil {
			return store.Version{}, err
		}
	}
	return p.Publish()
}

// genOf opens path (a store or a version) and returns the generation its
// values name, checking that every key agrees.
func genOf(path string) (string, string, error) {
	d, err := reader.Open(path, nil)
	if err != nil {
		return "", "", err
	}
	defer d.Close()
	first, err := d.GetCopy([]byte("k00"))
	if err != nil {
		return "", "", err
	}
	for i := range 100 {
		v, err := d.Get(fmt.Appendf(nil, "k%02d", i))
		if err != nil {
			return "", "", err
		}
		if string(v) != string(first) {
			return "", "", fmt.Errorf("k%02d = %q but k00 = %q: versions mixed", i, v, first)
		}
	}
	return string(first), d.Version(), nil
}

// Ensure that each Publish makes a new numbered version current, that
// reader.Open on the store opens exactly that version, and that the older
// versions stay, unchanged, and open directly.
func TestPublish_Versions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	for gen := 1; gen <= 3; gen++ {
		v := publish(t, dir, gen)
		if want := fmt.Sprintf("v%06d.kvd", gen); v.Name != want || v.Number != uint64(gen) || !v.Current || v.Keys != 100 {
			t.Fatalf("Publish = %+v, want %s current with 100 keys", v, want)
		}
		got, name, err := genOf(dir)
		if err != nil || got != fmt.Sprint("gen", gen) || name != v.Name {
			t.Fatalf("after publishing gen %d: Open(store) reads %q from %q, %v", gen, got, name, err)
		}
	}
	vs, err := store.Versions(dir)
	if err != nil || len(vs) != 3 {
		t.Fatalf("Versions = %+v, %v", vs, err)
	}
	for i, v := range vs {
		if v.Number != uint64(i+1) || v.Current != (i == 2) || v.Err != nil {
			t.Errorf("version %d: %+v", i, v)
		}
		if got, name, err := genOf(v.Path); err != nil || got != fmt.Sprint("gen", i+1) || name != "" {
			t.Errorf("Open(%s) = %q %q %v", v.Path, got, name, err)
		}
	}
	d, err := reader.Open(vs[2].Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Manifest().Build["store.version"] != "3" || d.Manifest().Build["store.parent"] != "v000002.kvd" {
		t.Errorf("build record = %v, want store.version 3 and parent v000002.kvd", d.Manifest().Build)
	}
}

// Ensure that one publisher at a time holds a store, that Abort leaves no
// version and frees the lock, and that GC and SetCurrent wait their turn.
func TestBegin_Busy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publish(t, dir, 1)
	p, err := store.Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Begin(dir, nil); !errors.Is(err, store.ErrBusy) {
		t.Errorf("second Begin = %v, want ErrBusy", err)
	}
	if _, err := store.GC(dir, nil); !errors.Is(err, store.ErrBusy) {
		t.Errorf("GC during a publish = %v, want ErrBusy", err)
	}
	if err := store.SetCurrent(dir, 1); !errors.Is(err, store.ErrBusy) {
		t.Errorf("SetCurrent during a publish = %v, want ErrBusy", err)
	}
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	if v := publish(t, dir, 2); v.Number != 2 {
		t.Errorf("after an Abort the next version is %d, want 2", v.Number)
	}
}

// Ensure that a publisher that dies after writing its version but before
// switching CURRENT leaves readers on the old version, and that the next
// publication gets a fresh number.
func TestPublish_CrashBeforeSwitch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publish(t, dir, 1)
	p, err := store.Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Add([]byte("k00"), []byte("orphan")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Builder.Commit(); err != nil { // written, never made current
		t.Fatal(err)
	}
	p.Abort() // as if the process died: releases the lock
	if got, _, err := genOf(dir); err != nil || got != "gen1" {
		t.Fatalf("after a crash before the switch: %q, %v; want gen1", got, err)
	}
	if v := publish(t, dir, 3); v.Number != 3 {
		t.Fatalf("next version = %d, want 3", v.Number)
	}
}

// Ensure that SetCurrent rolls back to an older version, and refuses a
// missing or damaged one, leaving CURRENT as it was.
func TestSetCurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publish(t, dir, 1)
	publish(t, dir, 2)
	if err := store.SetCurrent(dir, 1); err != nil {
		t.Fatal(err)
	}
	if got, name, err := genOf(dir); err != nil || got != "gen1" || name != "v000001.kvd" {
		t.Fatalf("after rollback: %q %q %v", got, name, err)
	}
	if err := store.SetCurrent(dir, 7); !errors.Is(err, store.ErrNoVersion) {
		t.Errorf("SetCurrent(7) = %v, want ErrNoVersion", err)
	}
	if err := os.Truncate(filepath.Join(dir, "v000002.kvd", "part-00000.fst"), 10); err != nil {
		t.Fatal(err)
	}
	if err := store.SetCurrent(dir, 2); !errors.Is(err, reader.ErrCorrupt) {
		t.Errorf("SetCurrent to a damaged version = %v, want ErrCorrupt", err)
	}
	if v, err := store.Current(dir); err != nil || v.Number != 1 {
		t.Errorf("Current = %+v, %v; want 1", v, err)
	}
}

// Ensure that kvdict never publishes into, or collects from, a directory
// that is not a store.
func TestBegin_NotStore(t *testing.T) {
	dictDir := testutil.MustBuild(t, testutil.RandomKVs(10, 1), 1, nil)
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{dictDir, other} {
		if _, err := store.Begin(dir, nil); !errors.Is(err, store.ErrNotStore) {
			t.Errorf("Begin(%s) = %v, want ErrNotStore", dir, err)
		}
		if _, err := store.GC(dir, nil); !errors.Is(err, store.ErrNotStore) {
			t.Errorf("GC(%s) = %v, want ErrNotStore", dir, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "LOCK")); err == nil {
			t.Errorf("%s: a LOCK file was created", dir)
		}
	}
	if _, err := store.Current(t.TempDir()); !errors.Is(err, store.ErrNoVersion) {
		t.Errorf("Current(empty) = %v, want ErrNoVersion", err)
	}
}

func numbers(vs []store.Version) []uint64 {
	var ns []uint64
	for _, v := range vs {
		ns = append(ns, v.Number)
	}
	return ns
}

// Ensure that GC keeps the current version and the Keep newest others,
// skips versions a reader has open until it closes them, and that
// readers of the store never notice.
func TestGC_KeepAndLeases(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publish(t, dir, 1)
	publish(t, dir, 2)
	held, err := reader.Open(dir, nil) // holds a lease on version 2
	if err != nil {
		t.Fatal(err)
	}
	publish(t, dir, 3)
	publish(t, dir, 4)
	publish(t, dir, 5)
	if err := store.SetCurrent(dir, 4); err != nil { // 5 is newer than current
		t.Fatal(err)
	}
	res, err := store.GC(dir, &store.GCOptions{Keep: 1, DryRun: true})
	if err != nil || fmt.Sprint(numbers(res.Removed)) != "[3 1]" || fmt.Sprint(numbers(res.InUse)) != "[2]" {
		t.Fatalf("dry run: removed %v in use %v, %v; want [3 1] and [2]", numbers(res.Removed), numbers(res.InUse), err)
	}
	if vs, _ := store.Versions(dir); len(vs) != 5 {
		t.Fatalf("the dry run removed something: %v", numbers(vs))
	}
	res, err = store.GC(dir, &store.GCOptions{Keep: 1})
	if err != nil || fmt.Sprint(numbers(res.Removed)) != "[3 1]" || fmt.Sprint(numbers(res.InUse)) != "[2]" {
		t.Fatalf("GC: removed %v in use %v, %v; want [3 1] and [2]", numbers(res.Removed), numbers(res.InUse), err)
	}
	if v, err := held.Get([]byte("k42")); err != nil || string(v) != "gen2" {
		t.Fatalf("the held version after GC: %q, %v", v, err)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	res, err = store.GC(dir, &store.GCOptions{Keep: 1})
	if err != nil || fmt.Sprint(numbers(res.Removed)) != "[2]" {
		t.Fatalf("GC after Close: removed %v, %v; want [2]", numbers(res.Removed), err)
	}
	vs, _ := store.Versions(dir)
	if fmt.Sprint(numbers(vs)) != "[4 5]" {
		t.Fatalf("left %v, want [4 5]", numbers(vs))
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Errorf("GC left %s behind", e.Name())
		}
	}
	if got, _, err := genOf(dir); err != nil || got != "gen4" {
		t.Fatalf("current after GC: %q, %v", got, err)
	}
}

// Ensure that MinAge keeps a version until the version after it has
// existed that long.
func TestGC_MinAge(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	for gen := 1; gen <= 3; gen++ {
		publish(t, dir, gen)
	}
	now := time.Now()
	res, err := store.GC(dir, &store.GCOptions{Keep: 0, MinAge: time.Hour, Now: func() time.Time { return now }})
	if err != nil || len(res.Removed) != 0 {
		t.Fatalf("GC with MinAge 1h removed %v, %v", numbers(res.Removed), err)
	}
	res, err = store.GC(dir, &store.GCOptions{Keep: 0, MinAge: time.Hour, Now: func() time.Time { return now.Add(2 * time.Hour) }})
	if err != nil || fmt.Sprint(numbers(res.Removed)) != "[2 1]" {
		t.Fatalf("GC two hours later removed %v, %v; want [2 1]", numbers(res.Removed), err)
	}
}

// Ensure that readers opening the store while versions are published and
// collected back to back never fail and never mix versions: the
// resolve/open race (a reader reads CURRENT, then GC deletes that version
// before the reader opens it) ends in a retry, never in an error.
func TestOpen_DuringPublishAndGC(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publish(t, dir, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var pubs, opens atomic.Int64
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for gen := 1; ctx.Err() == nil; gen++ {
			if _, err := publishErr(dir, gen); err != nil {
				errc <- err
				cancel()
				return
			}
			if _, err := store.GC(dir, &store.GCOptions{Keep: 0}); err != nil {
				errc <- err
				cancel()
				return
			}
			pubs.Add(1)
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, _, err := genOf(dir); err != nil {
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
	t.Logf("%d opens during %d publications + GCs", opens.Load(), pubs.Load())
	if pubs.Load() < 2 || opens.Load() < 10 {
		t.Fatalf("only %d opens during %d publications: the test proved nothing", opens.Load(), pubs.Load())
	}
}

// Ensure that a damaged CURRENT, or one naming a missing version, makes
// reader.Open fail with ErrCorrupt, never open something else.
func TestOpen_BadCurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publish(t, dir, 1)
	for _, content := range []string{"", "v000001.kvd", "../v000001.kvd\n", "v000009.kvd\n", "garbage\n"} {
		if err := os.WriteFile(filepath.Join(dir, "CURRENT"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := reader.Open(dir, nil); !errors.Is(err, reader.ErrCorrupt) {
			t.Errorf("CURRENT %q: Open = %v, want ErrCorrupt", content, err)
		}
	}
}
