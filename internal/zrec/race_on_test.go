//go:build race

package zrec_test

// raceEnabled shrinks the heaviest tests under the race detector, which
// makes zstd about ten times slower.
const raceEnabled = true
