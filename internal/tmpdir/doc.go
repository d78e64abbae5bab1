// Package tmpdir creates the temporary directories a build writes (the
// dictionary being built beside its target, the sorted runs in --tmp-dir)
// with an owner record inside, and finds and removes the ones whose owner
// is provably dead.
//
// A build stopped by SIGKILL (the OOM killer), a power cut or a crash
// cannot remove its temporary directory, and such directories can hold
// hundreds of GB. Every directory made by Create holds a small file,
// OwnerFile, naming the process that made it (see owner.go for its
// format). Sweep removes a directory only when that record proves its
// owner gone: same host, and either another boot, or the same boot and
// PID namespace with no process of that PID and start time. Anything it
// cannot prove (another host on shared storage, another container's PID
// namespace, no or unreadable record) is left alone and, when it looks
// like a build's directory, reported.
//
// The record is removed last (Remove) and is never part of a finished
// dictionary (Disown), so a directory is never half-removed and still
// claimed, or claimed after it became a dictionary.
package tmpdir
