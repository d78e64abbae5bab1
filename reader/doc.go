// Package reader opens a kvdict dictionary and answers lookups. It is the
// package worker processes import.
//
// # Basics
//
//	d, err := reader.Open("/data/urls.kvd", nil)
//	if err != nil { ... }
//	defer d.Close()
//	v, err := d.Get([]byte("https://example.com/"))
//	switch {
//	case errors.Is(err, reader.ErrNotFound): // absent
//	case err != nil: // corrupt dictionary: a real error
//	default: // use v
//	}
//
// Open maps the dictionary's files read-only and shared (mmap), and reads
// only the small MANIFEST and each file's header and footer: it is O(1) in
// the dictionary's size and takes well under a millisecond. Any number of
// processes that open the same dictionary share one copy of it in the page
// cache; a process's private memory for a dictionary is a few KB of state
// plus the page tables of what it touches, so 32 workers cost little more
// than one. Open a Dict after fork, in each worker; a Dict
// must not be shared across fork.
//
// A Dict is safe for concurrent use by many goroutines. Get allocates
// nothing.
//
// # Lookups: FST or hash index
//
// A dictionary built with a hash index (kvbuild --hash-index, manifest
// feature hash-index) stores every key beside its value and has one
// hash table per partition: Get hashes the key, reads its table slot and
// the candidate record, and compares the stored key, about two cache
// misses. Without the index Get walks the FST, one dependent read per key
// byte. Either way an absent key never returns a value. GetBatch resolves
// many keys at once with their memory loads overlapped, several times
// faster per key than a loop of Get on a hash-indexed dictionary; split a
// large batch across goroutines to use more cores. On a hash-indexed
// (keyed) dictionary All, Range and Prefix read each value log front to
// back instead of one random read per key.
//
// # Caveats
//
// Get and iterators return slices that alias the mapped file: they are
// valid until Close and must not be modified. After Close, using them
// crashes the process (SIGSEGV). Copy what you keep: GetCopy does, or
// use bytes.Clone / string(v). Close must not race with other calls on the
// same Dict.
//
// Open checks headers, footers, sizes and the manifest, not every byte,
// and values carry no checksum of their own: a dictionary damaged on disk
// can still return a wrong value (a flipped bit inside a value comes back
// as it is), or an error wrapping ErrCorrupt, at lookup time; it never
// crashes or hangs a reader. Verify (or `kvlookup verify`) reads
// everything and checks every checksum; run it when a dictionary is
// installed on a machine, or set Options.Verify.
//
// Never modify a dictionary's files in place (cp or rsync --inplace over
// a dictionary in use): a reader of a file that shrinks under its mapping
// dies of SIGBUS. Write a new dictionary beside it and rename it into
// place.
//
// # New versions
//
// Open accepts a store (package store, kvbuild --publish) as well as a
// dictionary directory, and opens the store's current version. A
// long-running process that must follow new versions uses a Handle
// (OpenHandle): lookups pin one version each, reloads never pause them,
// and a retired version is unmapped when its last lookup ends.
//
// # Iteration
//
// All, Range, Prefix, Regex and Fuzzy return an *Iterator over key order:
//
//	it := d.Prefix([]byte("https://example.com/"))
//	defer it.Close()
//	for it.Next() {
//		fmt.Printf("%s\t%s\n", it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
//
// or, with Go's range-over-func, `for k, v := range it.All()` followed by
// the same it.Err check.
package reader
