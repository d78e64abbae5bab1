// Package store publishes new versions of a dictionary under one stable
// name, for readers that keep running while the data changes.
//
// A store is a directory of immutable dictionary versions and a CURRENT
// file naming the one readers open:
//
//	/data/urls/
//	  CURRENT         "v000043.kvd\n"
//	  LOCK
//	  v000042.kvd/    a complete dictionary, never changed once published
//	  v000043.kvd/
//
// The layout, the CURRENT file's bytes and the lease protocol are
// specified in internal/storefmt (and docs/FORMAT.md, "Stores").
//
// # Basics
//
//	p, err := store.Begin("/data/urls", nil) // creates the store if needed
//	if err != nil { ... }
//	defer p.Abort()                          // no-op after Publish
//	for ... { p.Add(key, value) }            // p embeds *builder.Builder
//	v, err := p.Publish()                    // commit v000044.kvd, then switch CURRENT
//
// reader.Open("/data/urls", nil) opens the current version; a
// reader.Handle follows new versions without a restart. `kvbuild
// --publish -o STORE INPUT...` publishes from the command line, `kvlookup
// versions STORE` lists versions and `kvlookup gc STORE` removes old ones.
//
// # Guarantees
//
//   - Atomic switch: CURRENT is replaced by rename(2), after the new
//     version and then CURRENT.tmp were synced to disk. A reader sees the
//     old version or the new one; a crash at any point leaves CURRENT
//     naming a complete version (at worst the old one, with the new
//     version present but unpublished).
//   - Immutable versions: nothing is ever written into a published
//     version directory, so backups copy any version at leisure (rsync,
//     cp -r) and mapped files can never shrink under a reader (the SIGBUS
//     of in-place overwrites).
//   - One publisher at a time: Begin, SetCurrent and GC hold an exclusive
//     flock on STORE/LOCK and fail with ErrBusy while another holds it.
//   - Old versions stay until GC removes them, under a retention rule
//     (GCOptions): never the current version, never one of the newest
//     Keep, never one superseded less than MinAge ago, and never one a
//     reader on this machine still has open (leases: see storefmt).
//
// # Caveats
//
// Leases are flock(2) locks, local to one machine. On NFS, or when readers
// run on other machines, set GCOptions.MinAge longer than the longest a
// reader keeps an old version open (a reader.Handle drops an old version
// once its in-flight lookups end).
package store
