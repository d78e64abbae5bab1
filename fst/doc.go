// Package fst maps keys to uint64 values with a finite state transducer: a
// strict, framed, panic-free wrapper around github.com/blevesearch/vellum.
//
// kvdict stores, for every key, the offset of its value in the value log;
// the FST is the index. A [Builder] streams strictly increasing keys to an
// io.Writer, and [Load] opens the written bytes (usually an mmap) in O(1).
//
// # Basics
//
//	b, _ := fst.NewBuilder(w, nil)
//	b.Add([]byte("apple"), 10) // keys strictly increasing, bytewise
//	b.Add([]byte("pear"), 20)
//	footer, err := b.Close()   // footer.BodyCRC goes into the manifest
//
//	f, err := fst.Load(data)             // O(1): checks framing only
//	v, ok, err := f.Get([]byte("pear"))  // 0 allocations, concurrent-safe
//	it := f.Prefix([]byte("ap"))
//	for it.Next() { use(it.Key(), it.Value()) }
//	err = it.Err()
//
// # What this package adds to vellum
//
//   - Strict input: [Builder.Add] rejects duplicates and out-of-order keys
//     ([ErrDuplicate], [ErrOutOfOrder]) naming both keys; vellum accepts
//     duplicates silently. Errors are sticky, and write errors surface at
//     the next Add instead of at Close.
//   - Framing: magic, version, key count and CRC-32C (package
//     internal/frame); [FST.Verify] checks the CRC and walks every key.
//   - Safety on damaged files: vellum trusts every address in its data and
//     panics on a bad one. Get never calls it; every other entry point
//     recovers those panics and returns an error wrapping [ErrCorrupt];
//     iterators also bound their work (see [Iterator]) so that no damaged
//     file makes them run forever.
//   - Faster, allocation-free concurrent lookups: [FST.Get] does not call
//     vellum. It walks vellum's state bytes itself (walker.go; the encoding
//     is specified in format.go), checking every address and size, with no
//     per-goroutine state (vellum's own FST.Get allocates 160 B per call,
//     and its Reader may not be shared between goroutines).
//   - A pull [Iterator] that ends with Next returning false, instead of
//     vellum's ErrIteratorDone sentinel.
//
// # Values
//
// vellum sums uint64 outputs along the path of a key, so any value may be
// stored, in any order; values need not grow with the keys. Monotone values
// (value-log offsets written in key order) give the smallest files.
//
// # Costs
//
// Building is O(n) in the number of keys, single-threaded, and its memory
// is bounded by the registry size ([BuilderOptions]) and the longest key,
// not by n. [Load] is O(1) and copies nothing. A lookup visits one state per
// key byte. [FST.Verify] reads the whole file.
//
// # Caveats
//
// An [FST] aliases the bytes given to [Load]: they must stay valid and
// unchanged for as long as the FST or any of its iterators is used. For an
// mmap'd file, unmapping it while an Iterator is live crashes the process
// with SIGSEGV, which cannot be recovered. Keys returned by an Iterator
// are valid only until its next call to Next.
package fst
