//go:build !race

package valuelog_test

// raceEnabled shrinks the heaviest tests under the race detector.
const raceEnabled = false
