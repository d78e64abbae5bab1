package prefetch

import "testing"

// Ensure At accepts any index, inside or outside the slice, nil included,
// without faulting or changing the bytes.
func TestAt_AnyIndex(t *testing.T) {
	b := []byte("0123456789")
	for _, i := range []uint64{0, 5, 9, 10, 11, 1 << 40, ^uint64(0)} {
		At(b, i)
		At(nil, i)
		At(b[:0], i)
	}
	if string(b) != "0123456789" {
		t.Fatalf("bytes changed: %q", b)
	}
}

// Ensure the prefetch is allocation-free (GetBatch relies on it).
func TestAt_Allocs(t *testing.T) {
	b := make([]byte, 1<<20)
	if a := testing.AllocsPerRun(100, func() {
		for i := uint64(0); i < 1<<20; i += 4096 {
			At(b, i)
		}
	}); a != 0 {
		t.Fatalf("%v allocs", a)
	}
}

func BenchmarkAt(b *testing.B) {
	data := make([]byte, 64<<20)
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		At(data, i)
		i = (i + 4160) & (64<<20 - 1)
	}
}
