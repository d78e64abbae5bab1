//go:build race

package main

// raceEnabled skips the allocation test under the race detector, which
// makes sync.Pool drop items (so the reader allocates per lookup there).
const raceEnabled = true
