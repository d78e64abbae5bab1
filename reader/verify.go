package reader

import (
	"bytes"
	"errors"
	"fmt"
)

// Verify reads the whole dictionary and checks it: every file's body
// checksum, the structure of every FST and value log, that every key's
// value offset points at a well-formed record, that keys are in order and
// inside their partition's range, and that the counts match the manifest.
// It returns nil or an error (possibly several joined) naming each file and
// what is wrong; every one wraps ErrCorrupt. Verify is O(size): it reads
// every byte, so run it once when a dictionary is installed, not per
// process start.
func (d *Dict) Verify() error {
	if d.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for i := range d.parts {
		errs = append(errs, d.verifyPart(i))
	}
	return errors.Join(errs...)
}

func (d *Dict) verifyPart(i int) error {
	p := &d.parts[i]
	mp := &d.man.Partitions[i]
	if err := p.fst.Verify(); err != nil {
		return fmt.Errorf("reader: %s: %w", p.fstName, err)
	}
	if err := p.log.Verify(); err != nil {
		return fmt.Errorf("reader: %s: %w", p.logName, err)
	}
	if p.hix != nil {
		err := p.hix.Verify(func(addr uint64) ([]byte, error) {
			k, _, err := p.log.Record(addr)
			return k, err
		})
		if err != nil {
			return fmt.Errorf("reader: %s: %w", p.hixName, err)
		}
	}
	it := p.fst.Range(nil, nil)
	defer it.Close()
	var n uint64
	var first []byte
	var last []byte
	for it.Next() {
		k := it.Key()
		if n == 0 {
			first = bytes.Clone(k)
		}
		if _, err := p.log.Value(it.Value()); err != nil {
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
		n++
	}
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

// checkHashed checks that the hash index finds key at the FST's offset.
func (p *part) checkHashed(key []byte, off uint64) error {
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
