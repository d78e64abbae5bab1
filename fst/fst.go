package fst

import (
	"bytes"
	"fmt"

	"github.com/blevesearch/vellum"
	"github.com/blevesearch/vellum/regexp"

	"github.com/kvdict/kvdict/internal/frame"
)

// FST is a loaded, immutable FST file. All its methods are safe for
// concurrent use by many goroutines. It aliases the bytes given to [Load].
type FST struct {
	file *frame.File
	v    *vellum.FST // iterators and MaxKey; Get walks the bytes itself
	size int
	root int // root state address, from vellum's footer (checkBody checked it)
	top  *Top
}

// Load opens an FST file held in data, typically an mmap of the whole
// file. It is O(1): it checks the frame (magic, version, footer checksum,
// sizes), vellum's header and footer, and that both agree on the key
// count; it does not read the body (see [FST.Verify]). data is not copied
// and must not change while the FST is in use. Errors wrap [ErrCorrupt],
// [ErrMagic] or [ErrVersion].
func Load(data []byte) (f *FST, err error) {
	file, err := frame.Decode(data, Magic, Version)
	if err != nil {
		return nil, fmt.Errorf("fst: %w", err)
	}
	if file.Header.Flags != 0 {
		return nil, corruptf("header flags %#x, version %d defines none", file.Header.Flags, file.Header.Version)
	}
	if err := checkBody(file.Body, file.Footer.Count); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, panicError("load", p)
		}
	}()
	// The exact body: vellum finds its footer at the end of the slice.
	v, err := vellum.Load(file.Body)
	if err != nil {
		return nil, corruptf("vellum: %v", err)
	}
	if v.Len() < 0 || uint64(v.Len()) != file.Footer.Count {
		return nil, corruptf("vellum counts %d keys, frame footer %d", v.Len(), file.Footer.Count)
	}
	return &FST{file: file, v: v, size: len(data), root: walkRoot(file.Body)}, nil
}

// Len returns the number of keys.
func (f *FST) Len() int { return int(f.file.Footer.Count) }

// Size returns the size of the file in bytes (the length of the data given
// to Load), header and footer included.
func (f *FST) Size() int { return f.size }

// Footer returns the decoded frame footer: key count, body length and
// body CRC, as a manifest records them.
func (f *FST) Footer() Footer { return f.file.Footer }

// Get returns the value of key, and whether key is present. It is safe
// for concurrent use and does not allocate. A missing key gives (0, false,
// nil), and so does a key longer than [MaxKeyLen], which cannot be stored;
// an error (wrapping [ErrCorrupt]) means the file is damaged. A damaged
// file may also give wrong answers without an error: only [FST.Verify]
// (its CRC) detects all damage.
//
// Get does not call vellum: it walks vellum's state bytes itself
// (walker.go), with every address and size checked, in at most
// len(key)+1 steps. Its answers are vellum's (the tests compare both on
// millions of keys).
func (f *FST) Get(key []byte) (val uint64, ok bool, err error) {
	if len(key) > MaxKeyLen {
		return 0, false, nil // never stored
	}
	if f.top != nil {
		return walkTop(f.top, f.file.Body, f.root, key, nil)
	}
	return walkGet(f.file.Body, f.root, key, nil)
}

// GetPrefetch is [FST.Get] for an FST whose values are offsets into
// values, typically a value log's mapped bytes: its answers are Get's,
// and while it walks it asks the CPU to prefetch the part of values that
// holds the values below the state it has reached, once that part is at
// most 1 KiB, so that reading the value afterwards mostly hits the cache
// (walker.go, "Prefetching"). It never reads values; any slice, nil
// included, is safe.
func (f *FST) GetPrefetch(key, values []byte) (val uint64, ok bool, err error) {
	if len(key) > MaxKeyLen {
		return 0, false, nil // never stored
	}
	if f.top != nil {
		return walkTop(f.top, f.file.Body, f.root, key, values)
	}
	return walkGet(f.file.Body, f.root, key, values)
}

// Verify checks the whole file: the body CRC-32C, then a walk over every
// key checking that keys are strictly increasing, no longer than
// [MaxKeyLen], and as many as the footer says. It reads the whole file,
// so it costs O(size); Load does none of this. Errors wrap [ErrCorrupt].
func (f *FST) Verify() error {
	if err := f.file.VerifyBody(); err != nil {
		return fmt.Errorf("fst: %w", err)
	}
	it := f.Range(nil, nil)
	defer it.Close()
	var prev []byte
	var n uint64
	for it.Next() {
		k := it.Key()
		if n > 0 && bytes.Compare(k, prev) <= 0 {
			return corruptf("verify: key #%d %s does not sort after key #%d %s", n+1, quoteKey(k), n, quoteKey(prev))
		}
		prev = append(prev[:0], k...)
		n++
	}
	if err := it.Err(); err != nil {
		return err
	}
	if n != f.file.Footer.Count {
		return corruptf("verify: walked %d keys, footer counts %d", n, f.file.Footer.Count)
	}
	return nil
}

// MinKey returns a copy of the smallest key; ok is false when the FST is
// empty.
func (f *FST) MinKey() (key []byte, ok bool, err error) {
	it := f.Range(nil, nil)
	defer it.Close()
	if it.Next() {
		return bytes.Clone(it.Key()), true, nil
	}
	return nil, false, it.Err()
}

// MaxKey returns the largest key; ok is false when the FST is empty. It
// follows the last transition of each state, so it costs one state per
// byte of the key.
func (f *FST) MaxKey() (key []byte, ok bool, err error) {
	if f.Len() == 0 {
		return nil, false, nil
	}
	defer func() {
		if p := recover(); p != nil {
			key, ok, err = nil, false, panicError("max key", p)
		}
	}()
	// Addresses strictly decrease along every path, so this ends; and a
	// path is never longer than the body.
	k, err := f.v.GetMaxKey()
	if err != nil {
		return nil, false, corruptf("max key: vellum: %v", err)
	}
	if len(k) > MaxKeyLen {
		return nil, false, corruptf("max key: longer than %d bytes", MaxKeyLen)
	}
	if k == nil {
		k = []byte{}
	}
	return k, true, nil
}

// Range returns an iterator over the keys k with from <= k < to, in
// order. A nil from starts at the first key; a nil to runs to the end (an
// empty, non-nil to is a bound no key is below: the range is empty).
func (f *FST) Range(from, to []byte) *Iterator {
	return newIterator(f, from, to, nil)
}

// Prefix returns an iterator over the keys that start with p, in order.
// An empty p yields every key. It is the range [p, PrefixEnd(p)).
func (f *FST) Prefix(p []byte) *Iterator {
	return newIterator(f, p, PrefixEnd(p), nil)
}

// PrefixEnd returns the smallest key greater than every key with prefix
// p: p with its last byte that is not 0xff incremented and the bytes after
// it dropped. It returns nil (unbounded) when p is empty or all 0xff.
func PrefixEnd(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			s := bytes.Clone(p[:i+1])
			s[i]++
			return s
		}
	}
	return nil
}

// Regex returns an iterator over the keys that match expr entirely (the
// match is anchored at both ends). The syntax is Go's (regexp/syntax,
// Perl flags), minus what a DFA cannot do: anchors (^ $ \A \z), word
// boundaries and lazy quantifiers are rejected, and the compiled DFA is
// capped at 10000 states and about 10 MB. Those errors, and syntax errors,
// are returned here. The DFA reads UTF-8, so '.' and character classes
// never match the bytes of invalid UTF-8. The walk visits every key prefix the expression can
// still match, so a pattern with a literal prefix ("abc.*") is fast and
// one starting with ".*" reads the whole FST.
func (f *FST) Regex(expr string) (*Iterator, error) {
	re, err := regexp.New(expr)
	if err != nil {
		return nil, fmt.Errorf("fst: regex %q: %w", expr, err)
	}
	return newIterator(f, nil, nil, re), nil
}

// MaxFuzzyDistance is the largest edit distance [FST.Fuzzy] accepts. At 3
// or more a query over a large FST matches and visits a large part of it
// (bleve caps fuzziness at 2 for the same reason).
const MaxFuzzyDistance = 2

// Fuzzy returns an iterator over the keys within Levenshtein distance
// distance (0 to [MaxFuzzyDistance]) of term, in key order, exactly: the
// distance counts inserted, deleted and substituted Unicode code points (a
// transposition costs 2) between term and the key decoded as UTF-8, where
// each byte of an invalid sequence counts as one U+FFFD (Go's
// []rune(string(key))). term is at most [MaxFuzzyTermLen] bytes. The walk
// visits every key prefix still within reach of the distance, so a query
// over a large FST reads a good part of it at distance 2.
func (f *FST) Fuzzy(term string, distance int) (*Iterator, error) {
	if distance < 0 || distance > MaxFuzzyDistance {
		return nil, fmt.Errorf("fst: fuzzy distance %d out of range 0..%d", distance, MaxFuzzyDistance)
	}
	if len(term) > MaxFuzzyTermLen {
		return nil, fmt.Errorf("fst: fuzzy term of %d bytes is longer than %d", len(term), MaxFuzzyTermLen)
	}
	return newIterator(f, nil, nil, newLevenshtein(term, distance)), nil
}
