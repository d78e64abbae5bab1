//go:build race

package delta_test

// raceEnabled shrinks the oracle tests under the race detector, which runs
// them ~10x slower; the concurrency (one merge goroutine per partition)
// is the same at any size.
const raceEnabled = true
