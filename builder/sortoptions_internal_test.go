package builder

import "testing"

// Ensure the per-thread minimum fits a big server: --threads 64 with the
// default 4 GiB budget is not capped (it was capped to 54 with a 48 MiB
// partition reserve), a small budget still caps threads rather than
// making tiny runs, and the threads kept fit in the budget.
func TestOptions_ThreadCapBigServer(t *testing.T) {
	for _, c := range []struct {
		memory             int64
		threads, min, most int
	}{
		{4 << 30, 64, 64, 64},
		{4 << 30, 128, 100, 127},
		{256 << 20, 64, 2, 6},
		{64 << 20, 8, 1, 1},
	} {
		o := (&SortOptions{Memory: c.memory, Threads: c.threads}).withDefaults()
		if o.Threads < c.min || o.Threads > c.most {
			t.Errorf("Memory %d MiB, Threads %d: %d threads, want %d..%d", c.memory>>20, c.threads, o.Threads, c.min, c.most)
		}
		if o.Threads > 1 && o.runBudget(o.Threads) < minUsefulRun {
			t.Errorf("Memory %d MiB: %d threads get %d KiB run buffers", c.memory>>20, o.Threads, o.runBudget(o.Threads)>>10)
		}
	}
}
