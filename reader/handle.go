package reader

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Handle is a reader for long-running processes: it answers lookups from
// the current version of a dictionary or store and switches to a newly
// published version without a restart and without pausing lookups.
//
// Path may name a store (kvbuild --publish; see package store), whose
// CURRENT file names the version to read, or a plain dictionary directory
// that kvbuild --force replaces. Reload, or the background poller that
// HandleOptions.Poll starts, opens the new version completely and then
// swaps it in with one atomic pointer store: lookups never wait for a
// reload, and a lookup that started on the old version finishes on it.
//
// # Versions and lifetimes
//
// Each lookup pins the version it reads (an atomic reference count), so
// no lookup ever mixes two versions, and a retired version is unmapped
// only when its last in-flight lookup ends. Get therefore returns a copy
// of the value: a slice into the mapping could outlive it (and then crash
// the process, SIGSEGV). View runs a function on one pinned *Dict for
// zero-copy access and for several lookups that must see one version;
// nothing it obtains may be kept after it returns. A long View keeps its
// version mapped (and, for a store, leased against gc) for as long as it
// runs.
//
// A Handle is safe for concurrent use by many goroutines, Close included.
type Handle struct {
	path string
	opts HandleOptions

	cur     atomic.Pointer[version]
	mu      sync.Mutex // serializes Reload and Close
	closed  bool
	stop    chan struct{}
	stopped chan struct{}

	reloads atomic.Uint64
	mapped  atomic.Int64 // versions not yet unmapped, current included
	lastErr atomic.Pointer[errBox]
}

type errBox struct{ err error }

// HandleOptions configure OpenHandle. A nil *HandleOptions means the
// defaults.
type HandleOptions struct {
	// Options configure the Open of each version (Advice, Verify).
	// Verify makes every reload read the whole new version before
	// switching to it.
	Options
	// Poll is how often a background goroutine checks for a new version
	// (for a store, it reads CURRENT; for a dictionary directory, it
	// compares the directory's identity): a few small system calls per
	// check. 0 (the default) starts no goroutine: call Reload yourself,
	// for example on SIGHUP.
	Poll time.Duration
	// OnReload, if set, is called by the poller after each check that
	// switched versions or failed (err != nil; the old version stays
	// in use). It runs on the poller's goroutine.
	OnReload func(version string, err error)
}

// version is one open version of the dictionary and its reference
// count: 1 for being current, plus 1 per in-flight lookup. The count
// reaching 0 unmaps it; it never rises again from 0.
type version struct {
	d    *Dict
	refs atomic.Int64
	h    *Handle
}

// tryPin takes a reference unless the version is already released.
func (v *version) tryPin() bool {
	for {
		n := v.refs.Load()
		if n <= 0 {
			return false
		}
		if v.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// unpin drops a reference; the last one closes the Dict.
func (v *version) unpin() {
	if v.refs.Add(-1) == 0 {
		if err := v.d.Close(); err != nil {
			v.h.setErr(err)
		}
		v.h.mapped.Add(-1)
	}
}

// OpenHandle opens the dictionary or store at path, as Open does, for
// lookups that follow new versions. opts may be nil.
func OpenHandle(path string, opts *HandleOptions) (*Handle, error) {
	h := &Handle{path: path}
	if opts != nil {
		h.opts = *opts
	}
	d, err := Open(path, &h.opts.Options)
	if err != nil {
		return nil, err
	}
	h.install(d)
	if h.opts.Poll > 0 {
		h.stop, h.stopped = make(chan struct{}), make(chan struct{})
		go h.poll()
	}
	return h, nil
}

// install makes d the current version and retires the previous one.
func (h *Handle) install(d *Dict) {
	v := &version{d: d, h: h}
	v.refs.Store(1)
	h.mapped.Add(1)
	if old := h.cur.Swap(v); old != nil {
		old.unpin() // unmapped now, or when its last lookup ends
	}
}

// pin returns the current version with a reference taken, or nil after
// Close.
func (h *Handle) pin() *version {
	for {
		v := h.cur.Load()
		if v == nil || v.tryPin() {
			return v
		}
		// v was retired and released between the load and the pin: the
		// pointer has already moved on to its successor.
	}
}

// Get returns a copy of the value stored for key in the current version,
// or an error satisfying errors.Is(err, ErrNotFound). It allocates the
// copy; AppendValue does not.
func (h *Handle) Get(key []byte) ([]byte, error) {
	return h.AppendValue(nil, key)
}

// AppendValue appends the value stored for key in the current version to
// dst and returns the extended slice; with enough capacity in dst it
// allocates nothing. Errors are those of Get.
func (h *Handle) AppendValue(dst, key []byte) ([]byte, error) {
	v := h.pin()
	if v == nil {
		return dst, ErrClosed
	}
	defer v.unpin()
	val, err := v.d.Get(key)
	if err != nil {
		return dst, err
	}
	return append(dst, val...), nil
}

// Contains reports whether key is in the current version.
func (h *Handle) Contains(key []byte) (bool, error) {
	v := h.pin()
	if v == nil {
		return false, ErrClosed
	}
	defer v.unpin()
	return v.d.Contains(key)
}

// View calls fn with the current version pinned: every call fn makes on d
// sees that one version, and slices from d.Get and iterators stay valid
// until fn returns — not after. fn must not call d.Close. View returns
// fn's error.
func (h *Handle) View(fn func(d *Dict) error) error {
	v := h.pin()
	if v == nil {
		return ErrClosed
	}
	defer v.unpin()
	return fn(v.d)
}

// Version returns the store version being read (for example
// "v000043.kvd"), or "" when the Handle reads a dictionary directory.
func (h *Handle) Version() string {
	if v := h.pin(); v != nil {
		defer v.unpin()
		return v.d.Version()
	}
	return ""
}

// Reload switches to the newest version if there is one: for a store,
// the version CURRENT names; for a dictionary directory, whatever is at
// the path now. It opens the new version completely before switching,
// so lookups never wait; on error the Handle keeps the version it had.
// changed reports whether it switched. Reload is safe to call
// concurrently with lookups and with itself.
func (h *Handle) Reload() (changed bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false, ErrClosed
	}
	cur := h.cur.Load()
	if dev, ino, err := probe(h.path); err == nil && dev == cur.d.dev && ino == cur.d.ino {
		return false, nil // the common case: nothing new, nothing opened
	}
	d, err := Open(h.path, &h.opts.Options)
	if err != nil {
		return false, err
	}
	if d.dev == cur.d.dev && d.ino == cur.d.ino {
		return false, d.Close() // the probe raced a change back
	}
	h.install(d)
	h.reloads.Add(1)
	return true, nil
}

// HandleStats describes a Handle's state.
type HandleStats struct {
	// Version is the store version being read ("" for a dictionary
	// directory).
	Version string
	// Reloads counts the switches to a new version since OpenHandle.
	Reloads uint64
	// Mapped counts the versions still mapped: the current one plus
	// retired ones that in-flight lookups or Views still use. A number
	// that stays above 1 means a long View is pinning an old version.
	Mapped int
	// LastError is the last error of a background reload or of unmapping
	// a retired version, or nil.
	LastError error
}

// Stats returns the Handle's state.
func (h *Handle) Stats() HandleStats {
	st := HandleStats{Version: h.Version(), Reloads: h.reloads.Load(), Mapped: int(h.mapped.Load())}
	if b := h.lastErr.Load(); b != nil {
		st.LastError = b.err
	}
	return st
}

func (h *Handle) setErr(err error) { h.lastErr.Store(&errBox{err}) }

// poll checks for a new version every opts.Poll until Close.
func (h *Handle) poll() {
	defer close(h.stopped)
	t := time.NewTicker(h.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		changed, err := h.Reload()
		if errors.Is(err, ErrClosed) {
			return
		}
		if err != nil {
			h.setErr(fmt.Errorf("reader: reloading %s: %w", h.path, err))
		}
		if (changed || err != nil) && h.opts.OnReload != nil {
			h.opts.OnReload(h.Version(), err)
		}
	}
}

// Close stops the poller and releases the current version: it is
// unmapped at once, or when the last in-flight lookup or View ends.
// Lookups after Close return ErrClosed. Calling Close twice returns
// ErrClosed.
func (h *Handle) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	h.closed = true
	h.mu.Unlock()
	if h.stop != nil {
		close(h.stop)
		<-h.stopped
	}
	if v := h.cur.Swap(nil); v != nil {
		v.unpin()
	}
	return nil
}
