package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this binary as kvbuild itself (env
// KVBUILD_TEST_CHILD), to send it real signals. KVBUILD_TEST_READY names a
// file created when the merge writes its first key; the first
// KVBUILD_TEST_SLOW keys then take 0.15 ms each, so a signal lands mid-build.
func TestMain(m *testing.M) {
	if os.Getenv("KVBUILD_TEST_CHILD") == "" {
		os.Exit(m.Run())
	}
	if os.Getenv("KVBUILD_TEST_NOHUP") != "" {
		signal.Ignore(syscall.SIGHUP) // as nohup does
	}
	ready := os.Getenv("KVBUILD_TEST_READY")
	slow, _ := strconv.Atoi(os.Getenv("KVBUILD_TEST_SLOW"))
	var count atomic.Int64
	testHookAdd = func() {
		n := count.Add(1)
		if n == 1 {
			os.WriteFile(ready, nil, 0o644)
		}
		if n < int64(slow) && n%64 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	main()
}

// child starts this test binary as kvbuild with args and waits until its
// merge has begun. wait returns its exit code.
func child(t *testing.T, env []string, args ...string) (cmd *exec.Cmd, wait func() int) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd = exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(env, "KVBUILD_TEST_CHILD=1", "KVBUILD_TEST_READY="+ready)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- exitCode(cmd.Wait()) }()
	t.Cleanup(func() { cmd.Process.Kill() })
	wait = func() int {
		select {
		case code := <-done:
			return code
		case <-time.After(60 * time.Second):
			t.Fatal("child still running after 60s")
			return -1
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			return cmd, wait
		}
		select {
		case code := <-done:
			t.Fatalf("child exited (%d) before the merge: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("child never reached the merge: %s", stderr.String())
		}
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func bigInput(t *testing.T, dir string) string {
	t.Helper()
	var in strings.Builder
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&in, "key%07d\tvalue %d\n", (i*7919)%50000, i)
	}
	return writeFile(t, dir, "in.tsv", in.String())
}

// Ensure SIGHUP (the terminal closed) stops a build like Ctrl-C: exit 130,
// no temporary files, the previous dictionary intact; and that under nohup
// (SIGHUP ignored) the build carries on and succeeds.
func TestSignal_HUP(t *testing.T) {
	dir := t.TempDir()
	in := bigInput(t, dir)
	out := filepath.Join(dir, "dict")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", out, writeFile(t, dir, "old.tsv", "old\tdict\n")); code != 0 {
		t.Fatal(stderr)
	}
	cmd, wait := child(t, []string{"KVBUILD_TEST_SLOW=1000000"}, "--force", "--memory", "1K", "-o", out, in)
	cmd.Process.Signal(syscall.SIGHUP)
	if code := wait(); code != exitInterrupted {
		t.Fatalf("exit %d after SIGHUP, want %d", code, exitInterrupted)
	}
	if got := dump(t, out); got != "old=dict\n" {
		t.Fatalf("previous dictionary changed: %q", got)
	}
	assertNoTemp(t, dir)

	cmd, wait = child(t, []string{"KVBUILD_TEST_SLOW=3000", "KVBUILD_TEST_NOHUP=1"}, "--force", "-q", "-o", out, in)
	cmd.Process.Signal(syscall.SIGHUP)
	if code := wait(); code != 0 {
		t.Fatalf("exit %d under nohup", code)
	}
	if got := dump(t, out); !strings.HasPrefix(got, "key0000000=") {
		t.Fatalf("not rebuilt: %.40q", got)
	}
	assertNoTemp(t, dir)
}

// Ensure the temporary directories of a build killed with SIGKILL (the
// dictionary beside DICT and the runs in --tmp-dir) are removed by the next
// build, which says how much it freed, and that a running build's are not.
func TestSignal_KillLeftovers(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	in := bigInput(t, dir)
	out := filepath.Join(dir, "dict")
	cmd, wait := child(t, []string{"KVBUILD_TEST_SLOW=1000000"}, "--memory", "1K", "--tmp-dir", tmp, "-o", out, in)

	// While it runs, another build leaves its directories alone.
	other := filepath.Join(dir, "other")
	if code, stderr := kvbuild(t, context.Background(), "", "--tmp-dir", tmp, "-o", other, in); code != 0 || strings.Contains(stderr, "removed") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cmd.Process.Kill()
	wait()
	left := func(d string) []string {
		m, _ := filepath.Glob(filepath.Join(d, ".*"))
		return m
	}
	leftDir := left(dir)
	if len(leftDir) != 1 || len(left(tmp)) != 1 {
		t.Fatalf("expected one leftover in each place, got %v and %v", leftDir, left(tmp))
	}
	code, stderr := kvbuild(t, context.Background(), "", "--tmp-dir", tmp, "-o", out, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"removed 1 temporary directory of killed builds", filepath.Base(leftDir[0]), ".kvbuild-tmp-", "freed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Count(stderr, "removed 1 temporary directory") != 2 {
		t.Errorf("want one removal in each directory:\n%s", stderr)
	}
	assertNoTemp(t, dir)
	assertNoTemp(t, tmp)
}
