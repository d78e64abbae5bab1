package reader

import "fmt"

// hashGet looks key (whose hash is h) up in the partition's hash index:
// every candidate entry whose fingerprint matches is confirmed by comparing
// the key stored in its record, so a damaged or colliding index can turn a
// hit into ErrNotFound or ErrCorrupt but never into another key's value.
// It does not allocate unless it returns a corruption error.
func (p *part) hashGet(key []byte, h uint64) ([]byte, error) {
	pr := p.hix.Probe(h)
	for {
		addr, ok := pr.Next()
		if !ok {
			return nil, ErrNotFound
		}
		v, ok, err := p.log.Match(addr, key)
		if err != nil {
			return nil, fmt.Errorf("reader: %s: hash index entry points at a bad record: %w", p.hixName, err)
		}
		if ok {
			return v, nil
		}
	}
}
