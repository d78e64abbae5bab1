package testutil

import "testing"

// Ensure the key generator is deterministic, sorted and duplicate-free, and
// that URL keys have a realistic length.
func TestSortedKeys(t *testing.T) {
	for _, shape := range []string{"url", "random"} {
		a, b := SortedKeys(shape, 20_000, 1), SortedKeys(shape, 20_000, 1)
		if len(a) != 20_000 {
			t.Fatalf("%s: %d keys, want 20000 distinct", shape, len(a))
		}
		total := 0
		for i := range a {
			if string(a[i]) != string(b[i]) {
				t.Fatalf("%s: not deterministic at %d", shape, i)
			}
			if i > 0 && string(a[i-1]) >= string(a[i]) {
				t.Fatalf("%s: not sorted at %d", shape, i)
			}
			total += len(a[i])
		}
		if avg := total / len(a); shape == "url" && (avg < 35 || avg > 90) {
			t.Fatalf("url keys average %d bytes", avg)
		}
		t.Logf("%s: e.g. %q, average %d bytes", shape, a[len(a)/2], total/len(a))
	}
}
