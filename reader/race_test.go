//go:build race

package reader_test

// raceEnabled shrinks the large oracle tests under the race detector, which
// runs them ~10x slower; the concurrency tests run at full size either way.
const raceEnabled = true
