package zrec_test

import "syscall"

// threadCPU returns the CPU time the calling thread has used, in
// nanoseconds (RUSAGE_THREAD): benchmarks report it beside wall-clock
// time because the machine they run on is shared and noisy.
func threadCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
