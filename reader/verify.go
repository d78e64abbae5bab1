package reader

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kvdict/kvdict/valuelog"
)

// Verify reads the whole dictionary and checks it: every file's body
// checksum, the structure of every FST and value log, that every key's
// value offset points at a well-formed record, that keys are in order and
// inside their partition's range, and that the counts match the manifest.
// It returns nil or an error (possibly several joined, in partition order)
// naming each file and what is wrong; every one wraps ErrCorrupt. Verify
// is O(size): it reads every byte, so run it once when a dictionary is
// installed, not per process start. Partitions are checked in parallel,
// on up to GOMAXPROCS goroutines; see VerifyWith.
func (d *Dict) Verify() error { return d.VerifyWith(nil) }

// VerifyOptions configure VerifyWith. A nil *VerifyOptions means the
// defaults.
type VerifyOptions struct {
	// Threads is how many partitions are checked at once. Default
	// runtime.GOMAXPROCS(0); 1 checks them one after the other.
	Threads int
	// Progress, if set, is increased by the number of keys checked as the
	// check runs (in steps of a few thousand), for a progress display;
	// the total is Len.
	Progress *atomic.Int64
}

// VerifyWith is Verify with options: parallelism and progress.
func (d *Dict) VerifyWith(opts *VerifyOptions) error {
	if d.closed.Load() {
		return ErrClosed
	}
	var o VerifyOptions
	if opts != nil {
		o = *opts
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.Progress == nil {
		o.Progress = new(atomic.Int64)
	}
	errs := make([]error, len(d.parts))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(o.Threads, len(d.parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(d.parts); i = int(next.Add(1) - 1) {
				errs[i] = d.verifyPart(i, o.Progress)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *Dict) verifyPart(i int, progress *atomic.Int64) error {
	p := &d.parts[i]
	mp := &d.man.Partitions[i]
	if err := p.fst.Verify(); err != nil {
		return fmt.Errorf("reader: %s: %w", p.fstName, err)
	}
	if p.top != nil {
		// Node by node against the FST's states: with the CRC LoadTop
		// checked, lookups through it answer as the FST alone.
		if err := p.top.Verify(p.fst); err != nil {
			return fmt.Errorf("reader: %s: %w", p.topName, err)
		}
	}
	if err := p.log.Verify(); err != nil {
		return fmt.Errorf("reader: %s: %w", p.logName, err)
	}
	if p.hix != nil {
		var err error
		if p.log.Compressed() {
			err = p.hix.VerifyGroups(p.log.GroupKeys)
		} else {
			err = p.hix.Verify(func(addr uint64) ([]byte, error) {
				k, _, err := p.log.Record(addr)
				return k, err
			})
		}
		if err != nil {
			return fmt.Errorf("reader: %s: %w", p.hixName, err)
		}
	}
	it := p.fst.Range(nil, nil)
	defer it.Close()
	vc := p.log.Cursor()
	var n uint64
	var first []byte
	var last []byte
	for it.Next() {
		k := it.Key()
		if n == 0 {
			first = bytes.Clone(k)
		}
		if _, err := vc.Value(it.Value()); err != nil {
			return fmt.Errorf("reader: %s: key %q: %w", p.logName, k, err)
		}
		if p.log.Keyed() {
			rk, _, _ := p.log.Record(it.Value())
			if !bytes.Equal(rk, k) {
				return fmt.Errorf("reader: %s: %w: the FST maps key %q to the record of key %q", p.logName, ErrCorrupt, k, rk)
			}
		}
		if p.hix != nil {
			if err := p.checkHashed(k, it.Value()); err != nil {
				return err
			}
		}
		last = append(last[:0], k...)
		if n++; n%4096 == 0 {
			progress.Add(4096)
		}
	}
	progress.Add(int64(n % 4096))
	if err := it.Err(); err != nil {
		return fmt.Errorf("reader: %s: %w", p.fstName, err)
	}
	if n != mp.Keys {
		return fmt.Errorf("reader: %s: %w: %d keys, the MANIFEST says %d", p.fstName, ErrCorrupt, n, mp.Keys)
	}
	if !bytes.Equal(first, mp.FirstKey) || !bytes.Equal(last, mp.LastKey) {
		return fmt.Errorf("reader: %s: %w: keys run from %q to %q, the MANIFEST says %q to %q", p.fstName, ErrCorrupt, first, last, mp.FirstKey, mp.LastKey)
	}
	return nil
}

// checkHashed checks that the hash index finds key at the FST's offset
// (at its group, for an index over groups).
func (p *part) checkHashed(key []byte, off uint64) error {
	if p.log.Compressed() {
		off &^= 1<<valuelog.AddrShift - 1
	}
	pr := p.hix.Probe(p.hix.Hash(key))
	for {
		addr, ok := pr.Next()
		if !ok {
			return fmt.Errorf("reader: %s: %w: key %q is not in the hash index", p.hixName, ErrCorrupt, key)
		}
		if addr == off {
			return nil
		}
	}
}
