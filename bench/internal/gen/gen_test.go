package gen

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

// Ensure the same config gives the same bytes, and the line shapes hold.
func TestGenerator_Deterministic(t *testing.T) {
	for _, k := range []Keys{URL, Random} {
		cfg := Config{N: 50_000, Keys: k, Dup: 0.05, Seed: 7}
		var a, b bytes.Buffer
		if err := New(cfg).Write(&a); err != nil {
			t.Fatal(err)
		}
		if err := New(cfg).Write(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("keys=%s: two runs differ", k)
		}
		lines := bytes.Split(bytes.TrimSuffix(a.Bytes(), []byte("\n")), []byte("\n"))
		if len(lines) != int(cfg.N) {
			t.Fatalf("keys=%s: %d lines, want %d", k, len(lines), cfg.N)
		}
		seen := map[string]bool{}
		dups := 0
		for i, l := range lines {
			key, val, ok := bytes.Cut(l, []byte("\t"))
			if !ok || bytes.IndexByte(val, '\t') >= 0 {
				t.Fatalf("keys=%s line %d: want exactly one TAB: %q", k, i, l)
			}
			if len(val) < 8 || len(val) > 64 {
				t.Fatalf("keys=%s line %d: value length %d", k, i, len(val))
			}
			if k == Random && len(key) != 32 {
				t.Fatalf("line %d: random key length %d", i, len(key))
			}
			if seen[string(key)] {
				dups++
			}
			seen[string(key)] = true
		}
		if share := float64(dups) / float64(cfg.N); share < 0.04 || share > 0.06 {
			t.Errorf("keys=%s: duplicate share %.3f, want about 0.05", k, share)
		}
	}
}

// Pin the bytes of seed 1 so an accidental change to the dataset is noticed
// (published figures refer to it).
func TestGenerator_Golden(t *testing.T) {
	for _, tc := range []struct {
		keys Keys
		want string
	}{
		{URL, "https://shopsoft.nl/local/movies/garden/1753845952\tgD0t-Xrp4hGC6vHCH\n"},
		{Random, "324fc8f5b28957bb39ff215a18e78afd\tgD0t-Xrp4hGC6vHCH\n"},
	} {
		var b bytes.Buffer
		if err := New(Config{N: 1, Keys: tc.keys, Dup: 0.05, Seed: 1}).Write(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("keys=%s: got %q, want %q", tc.keys, b.String(), tc.want)
		}
	}
	var b bytes.Buffer
	if err := New(Config{N: 100_000, Keys: URL, Dup: 0.05, Seed: 1}).Write(&b); err != nil {
		t.Fatal(err)
	}
	const want = "a1b2b5eeaea3d309455d72834c46c67098d9450c195299e9e0dcf822802b2c5f"
	if got := fmt.Sprintf("%x", sha256.Sum256(b.Bytes())); got != want {
		t.Errorf("sha256(url, n=100000, seed=1) = %s, want %s", got, want)
	}
}

func BenchmarkAppendLine(b *testing.B) {
	for _, k := range []Keys{URL, Random} {
		b.Run("keys="+k.String(), func(b *testing.B) {
			g := New(Config{N: int64(b.N), Keys: k, Dup: 0.05, Seed: 1})
			buf := make([]byte, 0, 256)
			for i := 0; b.Loop(); i++ {
				buf = g.AppendLine(buf[:0], uint64(i))
			}
		})
	}
}
