package builder

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestParseInt(t *testing.T) {
	for _, s := range []string{"0", "-0", "+5", "9223372036854775807", "-9223372036854775808", "00000000000000000000042"} {
		want, _ := strconv.ParseInt(s, 10, 64)
		if got, ok := parseInt([]byte(s)); !ok || got != want {
			t.Errorf("%s: got %d %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-", "1.5", " 1", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "0x10"} {
		if _, ok := parseInt([]byte(s)); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

// Ensure the multikey sort agrees with bytes.Compare then seq.
func TestSortEntries(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rb := newRunBuf(1 << 20)
	for i := 0; i < 5000; i++ {
		k := make([]byte, r.IntN(30))
		for j := range k {
			k[j] = "ab\x00\xff"[r.IntN(4)]
		}
		rb.add(k, nil, uint64(r.IntN(1000)))
	}
	rb.sort()
	for i := 1; i < len(rb.ents); i++ {
		a, b := &rb.ents[i-1], &rb.ents[i]
		c := bytes.Compare(rb.key(a), rb.key(b))
		if c > 0 || (c == 0 && a.seq > b.seq) {
			t.Fatalf("%d: %q/%d before %q/%d", i, rb.key(a), a.seq, rb.key(b), b.seq)
		}
	}
}

// Ensure the radix sort on prefixes sorts, including many equal bytes.
func TestRadixSortPfx(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 31, 33, 1000, 100000} {
		es := make([]entry, n)
		for i := range es {
			switch i % 3 {
			case 0:
				es[i].pfx = r.Uint64()
			case 1:
				es[i].pfx = r.Uint64() & 0xff00ff0000000000
			default:
				es[i].pfx = 0x6868747470733a2f | uint64(r.IntN(3))
			}
		}
		radixSortPfx(es)
		for i := 1; i < n; i++ {
			if es[i-1].pfx > es[i].pfx {
				t.Fatalf("n=%d: not sorted at %d", n, i)
			}
		}
	}
}

// Ensure ENOSPC while spilling becomes ErrDiskFull with advice.
func TestSpillError_DiskFull(t *testing.T) {
	err := spillError("/t/run-1", &os.PathError{Op: "write", Path: "/t/run-1", Err: syscall.ENOSPC})
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "TempDir") {
		t.Fatalf("got %v", err)
	}
}

// Ensure a small budget caps the threads instead of making tiny runs.
func TestOptions_ThreadCap(t *testing.T) {
	o := (&SortOptions{Memory: 256 << 20, Threads: 8}).withDefaults()
	if o.Threads < 1 || o.Threads > 6 { // 33 MiB a thread after 24 MiB of slack and the merge's eighth
		t.Fatalf("threads %d for 256 MiB", o.Threads)
	}
	if o := (&SortOptions{Memory: 4 << 30, Threads: 8}).withDefaults(); o.Threads != 8 {
		t.Fatalf("threads %d for 4 GiB", o.Threads)
	}
	if o := (&SortOptions{Memory: 1, Threads: 8}).withDefaults(); o.Threads != 1 {
		t.Fatalf("threads %d for 1 byte", o.Threads)
	}
}
