package tmpdir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mkLeftover makes dir/name holding a 1000-byte file and, unless rec is
// nil, the owner record rec.
func mkLeftover(t *testing.T, dir, name string, rec *owner) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Join(p, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "sub", "run-000001"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec != nil {
		if err := os.WriteFile(filepath.Join(p, OwnerFile), rec.encode(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	return cmd.Process.Pid
}

// Ensure Sweep removes exactly the directories whose owner is provably
// dead (exited, PID reused, another boot), keeps live, kept and unprovable
// ones, and reports record-less directories only when they look like ours.
func TestSweep(t *testing.T) {
	me := self()
	if me == nil {
		t.Skip("no /proc here")
	}
	dir := t.TempDir()
	with := func(f func(o *owner)) *owner { o := *me; f(&o); return &o }
	gone := deadPID(t)
	removed := map[string]bool{
		mkLeftover(t, dir, ".exited", with(func(o *owner) { o.pid = gone })):              true,
		mkLeftover(t, dir, ".reused", with(func(o *owner) { o.start++ })):                 true,
		mkLeftover(t, dir, ".rebooted", with(func(o *owner) { o.boot = "other" })):        true,
		mkLeftover(t, dir, ".d.tmp-1", with(func(o *owner) { o.pid = gone })):             true,
		mkLeftover(t, dir, ".alive", me):                                                  false,
		mkLeftover(t, dir, ".kept", with(func(o *owner) { o.pid = gone; o.kept = true })): false,
	}
	unproven := map[string]bool{
		mkLeftover(t, dir, ".otherhost", with(func(o *owner) { o.host = "elsewhere"; o.boot = "x" })): true,
		mkLeftover(t, dir, ".container", with(func(o *owner) { o.pidns = "pid:[1]"; o.pid = gone })):  true,
		mkLeftover(t, dir, ".kvbuild-tmp-old", nil):                                                   true,
	}
	garbage := mkLeftover(t, dir, ".d.tmp-garbage", nil)
	os.WriteFile(filepath.Join(garbage, OwnerFile), []byte("kvdict-tmp 1\npid x\n"), 0o644)
	unproven[garbage] = true
	ignored := mkLeftover(t, dir, ".git", nil)
	visible := mkLeftover(t, dir, "visible", with(func(o *owner) { o.pid = gone }))

	r, err := Sweep(dir, ".kvbuild-tmp-*", ".*.tmp-*")
	if err != nil || len(r.Errors) > 0 {
		t.Fatal(err, r.Errors)
	}
	for _, l := range r.Removed {
		if !removed[l.Path] {
			t.Errorf("removed %s", l.Path)
		}
		if l.Bytes < 1000 {
			t.Errorf("%s: %d bytes", l.Path, l.Bytes)
		}
		delete(removed, l.Path)
	}
	for p, want := range removed {
		if want {
			t.Errorf("not removed: %s", p)
		}
		if _, err := os.Stat(p); (err == nil) == want {
			t.Errorf("%s: exists=%v", p, err == nil)
		}
	}
	if r.Freed() < 4000 {
		t.Errorf("freed %d", r.Freed())
	}
	for _, l := range r.Unproven {
		if !unproven[l.Path] {
			t.Errorf("reported as unproven: %s", l.Path)
		}
		delete(unproven, l.Path)
	}
	if len(unproven) > 0 {
		t.Errorf("not reported: %v", unproven)
	}
	for _, p := range append(mapKeys(unproven), ignored, visible, filepath.Join(dir, ".alive")) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed", p)
		}
	}
}

func mapKeys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

// Ensure Create records the owner, Remove deletes everything, and Disown
// leaves a directory with no record.
func TestCreateRemove(t *testing.T) {
	parent := t.TempDir()
	d, err := Create(parent, ".x.tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(d, OwnerFile))
	if err != nil || !strings.HasPrefix(string(data), magic+"\n") {
		t.Fatalf("%q %v", data, err)
	}
	if o, err := parseOwner(data); err != nil || o.pid != os.Getpid() {
		t.Fatalf("%+v %v", o, err)
	}
	// A live owner's directory survives a sweep.
	if r, _ := Sweep(parent); len(r.Removed)+len(r.Unproven) != 0 {
		t.Fatalf("%+v", r)
	}
	os.WriteFile(filepath.Join(d, "f"), []byte("x"), 0o644)
	if err := Disown(d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, OwnerFile)); err == nil {
		t.Fatal("record left after Disown")
	}
	if err := Remove(d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err == nil {
		t.Fatal("not removed")
	}
	if err := Remove(d); err != nil {
		t.Fatal("Remove of a missing dir:", err)
	}
}

// Ensure a record missing a field or with a bad number proves nothing.
func TestParseOwner(t *testing.T) {
	good := "kvdict-tmp 1\npid 7\nstart 9\nboot b\nhost h\nfuture x\n"
	if o, err := parseOwner([]byte(good)); err != nil || o.pid != 7 || o.start != 9 {
		t.Fatalf("%+v %v", o, err)
	}
	for _, bad := range []string{"", "kvdict-tmp 2\npid 7\nstart 9\nboot b\nhost h\n", "kvdict-tmp 1\nstart 9\nboot b\nhost h\n", "kvdict-tmp 1\npid -1\nstart 9\nboot b\nhost h\n", "kvdict-tmp 1\npid 7\nstart x\nboot b\nhost h\n"} {
		if _, err := parseOwner([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
