package main

import "syscall"

// peakRSS returns this process's peak resident set size in bytes (the
// kernel's high-water mark, VmHWM), or 0 if unknown.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10 // kilobytes on Linux
}
