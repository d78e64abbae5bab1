package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// Ensure a signal stops a build blocked reading standard input from a
// producer that writes nothing (SIGTERM used to wait for the producer's next
// write): exit 130, nothing written.
func TestRun_InterruptedWhileStdinBlocks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "dict")
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { pw.Write([]byte("a\t1\nb\t2\n")) }() // then silence
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, errb bytes.Buffer
	go func() { done <- runIO(ctx, []string{"kvbuild", "-o", out, "-"}, pr, &stdout, &errb) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted") {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second): // a hang, not a timing
		t.Fatal("kvbuild still blocked in its read of standard input 30 s after the signal")
	}
	assertNoTemp(t, dir)
}

// Ensure the reader passes a stream through unchanged, whatever the sizes
// of the reads on either side, and ends with the source's error.
func TestStdinReader(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef\n"), 100_000) // 1.7 MB: several buffers
	for _, src := range []io.Reader{
		bytes.NewReader(want),
		iotest.OneByteReader(bytes.NewReader(want[:5000])),
		iotest.HalfReader(bytes.NewReader(want)),
	} {
		got, err := io.ReadAll(iotest.HalfReader(newStdinReader(context.Background(), src)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[:len(got)]) || (len(got) != len(want) && len(got) != 5000) {
			t.Fatalf("got %d bytes, not the source's", len(got))
		}
	}
	r := newStdinReader(context.Background(), iotest.TimeoutReader(strings.NewReader("abc")))
	if _, err := io.ReadAll(r); err != iotest.ErrTimeout {
		t.Fatalf("err %v, want the source's ErrTimeout", err)
	}
}
