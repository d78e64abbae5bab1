// Package prefetch asks the processor to start loading a cache line
// without waiting for it.
//
// A batch lookup (reader.Dict.GetBatch) knows the addresses of many
// lookups' table slots and records before it reads any of them. A plain
// load started early keeps the instructions after it from retiring until
// it returns: the reorder buffer then fills after a few hundred
// instructions, which limits a lookup of ~150 instructions per key to a
// few loads in flight (docs/BENCHMARKS.md §11 measured 3.8 M keys/s per
// core that way). A prefetch retires at once, so as many lines are in
// flight as the memory system allows. Go has no prefetch intrinsic for
// user code, hence a three-instruction assembly function per architecture
// (amd64: PREFETCHT0, arm64: PRFM PLDL1KEEP); elsewhere At does nothing.
//
// A single lookup can use it too: fst's walker learns, once it enters a
// small subtree, where all of that subtree's states and values lie, and
// fetches them with Range in parallel with the miss it waits for anyway.
// A wrong guess costs memory bandwidth, never a wrong answer.
package prefetch

// At starts loading the cache line holding b[i] and returns without
// waiting; it does nothing when i is outside b. It never faults, whatever
// b is mapped to, and changes nothing the program can observe but time.
func At(b []byte, i uint64) {
	if i < uint64(len(b)) {
		line(&b[i])
	}
}

// Range starts loading every cache line holding a byte of b, the last
// line first, and returns without waiting; an empty b does nothing. Like
// At it never faults and changes nothing observable but time. It costs
// about 5 ns for 4 cached lines (BenchmarkRange): one call, not one per
// line.
func Range(b []byte) {
	if len(b) > 0 {
		lines(&b[0], len(b))
	}
}
