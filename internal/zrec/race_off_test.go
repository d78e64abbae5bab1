//go:build !race

package zrec_test

// raceEnabled shrinks the heaviest tests under the race detector.
const raceEnabled = false
