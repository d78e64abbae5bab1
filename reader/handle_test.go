package reader_test

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

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/store"
)

const handleKeys = 300

// publishGen publishes a version of the store at dir in which every key
// k000..k299 holds "genN" and the key "name" holds the version's name.
func publishGen(t testing.TB, dir string, gen int) string {
	t.Helper()
	p, err := store.Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	for i := range handleKeys {
		if err := p.Add(fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "gen%d", gen)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Add([]byte("name"), []byte(p.Name())); err != nil {
		t.Fatal(err)
	}
	v, err := p.Publish()
	if err != nil {
		t.Fatal(err)
	}
	return v.Name
}

func mustGet(t testing.TB, h *reader.Handle, key string) string {
	t.Helper()
	v, err := h.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return string(v)
}

// Ensure that a Handle on a store keeps its version until Reload, then
// switches to the version CURRENT names, and that Reload without a new
// version changes nothing.
func TestHandle_ReloadStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publishGen(t, dir, 1)
	h, err := reader.OpenHandle(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := mustGet(t, h, "k007"); got != "gen1" || h.Version() != "v000001.kvd" {
		t.Fatalf("Get = %q from %q", got, h.Version())
	}
	publishGen(t, dir, 2)
	if got := mustGet(t, h, "k007"); got != "gen1" {
		t.Fatalf("switched without Reload: %q", got)
	}
	if changed, err := h.Reload(); !changed || err != nil {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	if got := mustGet(t, h, "k007"); got != "gen2" || h.Version() != "v000002.kvd" {
		t.Fatalf("after Reload: %q from %q", got, h.Version())
	}
	if changed, err := h.Reload(); changed || err != nil {
		t.Fatalf("second Reload = %v, %v; want no change", changed, err)
	}
	if st := h.Stats(); st.Reloads != 1 || st.Mapped != 1 || st.LastError != nil {
		t.Fatalf("Stats = %+v", st)
	}
	if _, err := h.Get([]byte("absent")); !errors.Is(err, reader.ErrNotFound) {
		t.Fatalf("Get(absent) = %v", err)
	}
}

// Ensure that a Handle on a plain dictionary directory follows kvbuild
// --force replacements, and keeps serving the old version when a reload
// fails.
func TestHandle_ReloadForcedDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.kvd")
	testutil.Build(t, path, []testutil.KV{{Key: []byte("k"), Value: []byte("old")}}, 1, nil)
	h, err := reader.OpenHandle(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	testutil.Build(t, path, []testutil.KV{{Key: []byte("k"), Value: []byte("new")}}, 1, &builder.Options{Force: true})
	if changed, err := h.Reload(); !changed || err != nil || mustGet(t, h, "k") != "new" {
		t.Fatalf("Reload = %v, %v; Get = %q", changed, err, mustGet(t, h, "k"))
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Reload(); err == nil {
		t.Fatal("Reload of a removed dictionary succeeded")
	}
	if got := mustGet(t, h, "k"); got != "new" {
		t.Fatalf("after a failed Reload: %q", got)
	}
}

// Ensure that a View keeps its version mapped, its slices valid and its
// store lease held while reloads retire it, and that the version is
// unmapped (and collectable) exactly when the View ends.
func TestHandle_ViewPinsRetiredVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publishGen(t, dir, 1)
	h, err := reader.OpenHandle(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	err = h.View(func(d *reader.Dict) error {
		v, err := d.Get([]byte("k100")) // aliases the mapping of version 1
		if err != nil {
			return err
		}
		for gen := 2; gen <= 3; gen++ {
			publishGen(t, dir, gen)
			if changed, err := h.Reload(); !changed || err != nil {
				return fmt.Errorf("Reload = %v, %v", changed, err)
			}
		}
		if st := h.Stats(); st.Mapped != 2 || st.Version != "v000003.kvd" {
			return fmt.Errorf("inside the View: Stats = %+v, want 2 mapped (1 and 3)", st)
		}
		if string(v) != "gen1" {
			return fmt.Errorf("the View's slice reads %q", v)
		}
		res, err := store.GC(dir, &store.GCOptions{Keep: 0})
		if err != nil || len(res.InUse) != 1 || res.InUse[0].Number != 1 || len(res.Removed) != 1 || res.Removed[0].Number != 2 {
			return fmt.Errorf("GC during the View: %+v, %v; want 2 removed, 1 in use", res, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Mapped != 1 {
		t.Fatalf("after the View: Stats = %+v, want 1 mapped", st)
	}
	if res, err := store.GC(dir, &store.GCOptions{Keep: 0}); err != nil || len(res.Removed) != 1 || res.Removed[0].Number != 1 {
		t.Fatalf("GC after the View: %+v, %v; want 1 removed", res, err)
	}
}

// Ensure that Close waits for nothing, that in-flight Views finish on
// their version, which is unmapped when the last one ends, and that every
// call after Close returns ErrClosed.
func TestHandle_CloseDuringView(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publishGen(t, dir, 1)
	h, err := reader.OpenHandle(dir, &reader.HandleOptions{Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	inView, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- h.View(func(d *reader.Dict) error {
			v, err := d.Get([]byte("k001"))
			close(inView)
			<-release
			if err != nil || string(v) != "gen1" {
				return fmt.Errorf("inside the View after Close: %q, %v", v, err)
			}
			return nil
		})
	}()
	<-inView
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Mapped != 1 {
		t.Fatalf("after Close with a View running: Stats = %+v, want 1 mapped", st)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Mapped != 0 {
		t.Fatalf("after the last View: Stats = %+v, want 0 mapped", st)
	}
	if _, err := h.Get([]byte("k001")); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Get after Close = %v", err)
	}
	if _, err := h.Reload(); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Reload after Close = %v", err)
	}
	if err := h.Close(); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}

// Ensure that lookups running during many reloads never fail, never mix
// two versions inside one View, and never read a retired version after
// it is unmapped (run it with -race: go test -race ./reader -run
// TestHandle_LookupsDuringReloads). One Handle is reloaded explicitly
// as fast as the store switches; one polls every millisecond.
func TestHandle_LookupsDuringReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	for gen := 1; gen <= 3; gen++ {
		publishGen(t, dir, gen)
	}
	explicit, err := reader.OpenHandle(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer explicit.Close()
	polled, err := reader.OpenHandle(dir, &reader.HandleOptions{Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer polled.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	errc := make(chan error, 8)
	fail := func(err error) { errc <- err; cancel() }
	var wg sync.WaitGroup
	var switches, lookups atomic.Int64
	wg.Add(1)
	go func() { // switch the store between its versions, back to back, as fast as it goes
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			if err := switchCurrent(dir, i%3+1); err != nil {
				fail(err)
				return
			}
			if _, err := explicit.Reload(); err != nil {
				fail(err)
				return
			}
			switches.Add(1)
		}
	}()
	for _, h := range []*reader.Handle{explicit, polled} {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					if err := checkOneVersion(h, i); err != nil {
						fail(err)
						return
					}
					lookups.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	st1, st2 := explicit.Stats(), polled.Stats()
	t.Logf("%d lookups during %d switches; reloads: explicit %d, polled %d", lookups.Load(), switches.Load(), st1.Reloads, st2.Reloads)
	if st1.Reloads < 10 || st2.Reloads < 2 || lookups.Load() < 100 {
		t.Fatalf("too few reloads or lookups to prove anything: %+v %+v, %d lookups", st1, st2, lookups.Load())
	}
	if st1.LastError != nil || st2.LastError != nil {
		t.Fatalf("background errors: %v; %v", st1.LastError, st2.LastError)
	}
}

// checkOneVersion does a Get, and a View that reads many keys and checks
// they all come from the version the View's Dict says it is.
func checkOneVersion(h *reader.Handle, i int) error {
	if v, err := h.Get(fmt.Appendf(nil, "k%03d", i%handleKeys)); err != nil || len(v) != 4 {
		return fmt.Errorf("Get: %q, %v", v, err)
	}
	return h.View(func(d *reader.Dict) error {
		name, err := d.Get([]byte("name"))
		if err != nil || string(name) != d.Version() {
			return fmt.Errorf("View: name %q, %v, in version %q", name, err, d.Version())
		}
		want := "gen" + string(name[len("v00000"):len("v000001")])
		for j := 0; j < handleKeys; j += 7 {
			v, err := d.Get(fmt.Appendf(nil, "k%03d", j))
			if err != nil || string(v) != want {
				return fmt.Errorf("View of %s: k%03d = %q, %v; want %q: versions mixed", name, j, v, err, want)
			}
		}
		return nil
	})
}

// switchCurrent points the store's CURRENT at version n with the rename a
// publication ends with, minus store.SetCurrent's fsyncs (which make it
// ~50x slower here, and a test of reloads wants many).
func switchCurrent(dir string, n int) error {
	tmp := filepath.Join(dir, "CURRENT.test-tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "v%06d.kvd\n", n), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "CURRENT"))
}
