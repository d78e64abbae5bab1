package reader

import "fmt"

// hashAppendGroup is hashGet over a compressed keyed log, whose hash index
// addresses groups (hashindex.GroupShift): each candidate group whose
// entry's fingerprint matches is decoded once and its records' keys are
// compared with key, so, as with raw records, an absent key never returns
// a value. The value is appended to dst; the group is decoded into pooled
// scratch, so nothing is allocated when dst has room.
func (p *part) hashAppendGroup(dst, key []byte, h uint64) ([]byte, error) {
	out, ok, err := p.hashFindGroup(dst, key, h, true)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return out, err
}

// hashFindGroup walks the candidate groups of key (hash h); with value it
// appends the key's value to dst, without (Contains) it reads no value.
func (p *part) hashFindGroup(dst, key []byte, h uint64, value bool) ([]byte, bool, error) {
	pr := p.hix.Probe(h)
	last := uint64(0) // no group lives at address 0
	for {
		addr, ok := pr.Next()
		if !ok {
			return dst, false, nil
		}
		if addr == last {
			continue // two candidates in one group: it holds no key here
		}
		last = addr
		out := dst
		var err error
		if value {
			out, ok, err = p.log.MatchGroupAppend(dst, addr, key)
		} else {
			ok, err = p.log.GroupHas(addr, key)
		}
		if err != nil {
			return dst, false, fmt.Errorf("reader: %s: hash index entry points at a bad group: %w", p.hixName, err)
		}
		if ok {
			return out, true, nil
		}
	}
}
