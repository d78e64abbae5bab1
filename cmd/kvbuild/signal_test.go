package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvdict/kvdict/builder"
)

// TestMain lets a test run this binary as kvbuild itself (env
// KVBUILD_TEST_CHILD), to send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("KVBUILD_TEST_CHILD") == "" {
		os.Exit(m.Run())
	}
	if os.Getenv("KVBUILD_TEST_NOHUP") != "" {
		signal.Ignore(syscall.SIGHUP) // as nohup does
	}
	main()
}

// child starts this test binary as kvbuild with args, which should read
// standard input ("-") and spill into tmp (--tmp-dir tmp --memory 1K). It
// feeds the first half of input and returns once the child has spilled a
// run: its signal handling is set up, its temporary directories exist and
// it is mid-build, waiting for the rest of its input. finish sends the rest
// (with rest) and closes standard input; wait returns the exit code.
func child(t *testing.T, env []string, tmp string, input []byte, args ...string) (cmd *exec.Cmd, finish func(rest bool), wait func() int) {
	t.Helper()
	cmd = exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(env, "KVBUILD_TEST_CHILD=1")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	half := len(input) / 2
	wrote := make(chan struct{})
	go func() {
		stdin.Write(input[:half]) // fails harmlessly if the child dies
		close(wrote)
	}()
	finish = func(rest bool) {
		if rest {
			<-wrote
			stdin.Write(input[half:])
		}
		stdin.Close()
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
		if runs, _ := filepath.Glob(filepath.Join(tmp, ".kvbuild-tmp-*", "run-*")); len(runs) > 0 {
			return cmd, finish, wait
		}
		select {
		case code := <-done:
			t.Fatalf("child exited (%d) before spilling: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("child never spilled: %s", stderr.String())
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

func bigInput(t *testing.T, dir string) (path string, data []byte) {
	t.Helper()
	var in strings.Builder
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&in, "key%07d\tvalue %d\n", (i*7919)%50000, i)
	}
	return writeFile(t, dir, "in.tsv", in.String()), []byte(in.String())
}

// Ensure SIGHUP (the terminal closed) stops a build like Ctrl-C: exit 130,
// no temporary files, the previous dictionary intact; and that under nohup
// (SIGHUP ignored) the build carries on and succeeds.
func TestSignal_HUP(t *testing.T) {
	dir := t.TempDir()
	_, data := bigInput(t, dir)
	out := filepath.Join(dir, "dict")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", out, writeFile(t, dir, "old.tsv", "old\tdict\n")); code != 0 {
		t.Fatal(stderr)
	}
	// Under nohup (as a CI job may run), this process ignores SIGHUP and
	// its children inherit that, so kvbuild would rightly leave SIGHUP
	// alone. Catching it here makes exec hand the child the default
	// action, as a terminal session would; the nohup case below sets the
	// child's ignore itself (KVBUILD_TEST_NOHUP).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cmd, finish, wait := child(t, nil, dir, data, "--force", "--memory", "1K", "-o", out, "-")
	cmd.Process.Signal(syscall.SIGHUP)
	// The signal alone must stop the build: its read of standard input
	// does not hold it up (TestRun_InterruptedWhileStdinBlocks). Standard
	// input stays open until it has exited; closing it first raced the
	// signal's cancellation against the end of the input, and on a busy
	// machine the build sometimes finished (exit 0) or met a cut line
	// (exit 1) first.
	code := wait()
	finish(false)
	if code != exitInterrupted {
		t.Fatalf("exit %d after SIGHUP, want %d", code, exitInterrupted)
	}
	if got := dump(t, out); got != "old=dict\n" {
		t.Fatalf("previous dictionary changed: %q", got)
	}
	assertNoTemp(t, dir)

	cmd, finish, wait = child(t, []string{"KVBUILD_TEST_NOHUP=1"}, dir, data, "--force", "-q", "--memory", "1K", "-o", out, "-")
	cmd.Process.Signal(syscall.SIGHUP)
	finish(true)
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
	in, data := bigInput(t, dir)
	out := filepath.Join(dir, "dict")
	cmd, _, wait := child(t, nil, tmp, data, "--memory", "1K", "--tmp-dir", tmp, "-o", out, "-")

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

// Ensure that a signal whose cancellation trails the bad input it caused
// (the feeding program died of the same Ctrl-C, standard input ended
// mid-line) still exits 130, and that bad input with no signal keeps its
// own exit code.
func TestClassify_SignalTrailsInputError(t *testing.T) {
	bad := fmt.Errorf("stdin:3: line ends without a newline: %w", builder.ErrInvalidInput)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(signalGrace/5, cancel)
	var ee *exitError
	if err := classify(ctx, bad); !errors.As(err, &ee) || ee.code != exitInterrupted {
		t.Fatalf("signal %v after the input error: %v, want exit %d", signalGrace/5, err, exitInterrupted)
	}
	if err := classify(context.Background(), bad); !errors.As(err, &ee) || ee.code != exitInput {
		t.Fatalf("input error without a signal: %v, want exit %d", err, exitInput)
	}
}
