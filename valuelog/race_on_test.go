//go:build race

package valuelog_test

// raceEnabled shrinks the heaviest tests under the race detector, which
// slows them about tenfold; the code paths are the same.
const raceEnabled = true
