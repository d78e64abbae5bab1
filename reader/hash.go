package reader

import (
	"fmt"

	"github.com/kvdict/kvdict/hashindex"
)

// hashGet looks key (whose hash is h) up in the partition's hash index:
// every candidate entry whose fingerprint matches is confirmed by comparing
// the key stored in its record, so a damaged or colliding index can turn a
// hit into ErrNotFound or ErrCorrupt but never into another key's value.
// It does not allocate unless it returns a corruption error.
//
// A hit costs two dependent cache misses, the table slot and the record;
// the record of a URL-sized key spans two cache lines, whose loads would
// otherwise be serialised too (the second is only addressed once the key
// length has been decoded from the first). So before decoding, the byte
// at the end of the stored key, whose position follows from len(key)
// alone, is read together with the record's first byte: both lines are
// then fetched at once.
func (p *part) hashGet(key []byte, h uint64) ([]byte, error) {
	if p.log.Compressed() { // the index addresses groups: decode, then compare
		v, err := p.hashAppendGroup(nil, key, h)
		if err == nil && v == nil {
			v = []byte{}
		}
		return v, err
	}
	pr := p.hix.Probe(h)
	addr, ok := pr.Next()
	if !ok {
		return nil, ErrNotFound
	}
	if p.log.Touch(addr, len(key)+2) == 0x5a { // see touchSink
		touchSink.Add(1)
	}
	return p.hashResume(&pr, addr, key)
}

// hashResume confirms the candidate record at addr, which pr returned,
// and the further candidates of pr until one holds key.
func (p *part) hashResume(pr *hashindex.Probe, addr uint64, key []byte) ([]byte, error) {
	for {
		v, ok, err := p.log.Match(addr, key)
		if err != nil {
			return nil, fmt.Errorf("reader: %s: hash index entry points at a bad record: %w", p.hixName, err)
		}
		if ok {
			return v, nil
		}
		if addr, ok = pr.Next(); !ok {
			return nil, ErrNotFound
		}
	}
}
