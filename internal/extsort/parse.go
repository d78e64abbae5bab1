package extsort

import (
	"bytes"
	"fmt"
	"github.com/kvdict/kvdict/internal/escape"
	"sync"
)

// Sequence numbers order records by input position: input index in the
// high 24 bits, line number in the low 40 (a trillion lines per file).
const seqLineBits = 40

func makeSeq(file int, line int64) uint64 { return uint64(file)<<seqLineBits | uint64(line) }

func seqFile(s uint64) int   { return int(s >> seqLineBits) }
func seqLine(s uint64) int64 { return int64(s & (1<<seqLineBits - 1)) }

// lineParser splits chunks into records.
type lineParser struct {
	names    []string
	unescape bool
	skip     bool
	skips    *skipLog
	keyOnly  bool  // a line without a TAB is a key with an empty value
	header   int64 // lines skipped at the start of every input
}

// each calls fn for every valid record of c. Keys and values alias c (and
// are unescaped in place under --unescape). A bad line is returned as a
// *LineError unless skipping, in which case it is logged.
func (p *lineParser) each(c *chunk, fn func(key, val []byte, seq uint64) error) (lines int64, err error) {
	data := c.data
	line := c.line
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		ln := line
		line++
		if ln <= p.header {
			continue // a header line (--skip-header)
		}
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		if len(l) == 0 {
			continue
		}
		lines++
		tab := bytes.IndexByte(l, '\t')
		var reason string
		var key, val []byte
		switch {
		case tab >= 0:
			key, val = l[:tab], l[tab+1:]
		case p.keyOnly:
			key, val = l, l[len(l):] // the whole line is the key; empty value
		default:
			reason = "no TAB between key and value"
		}
		if reason == "" && p.unescape {
			var ok bool
			if key, ok = unescapeInPlace(key); !ok {
				reason = "bad escape in key (--unescape accepts \\t \\n \\r \\\\)"
			} else if val, ok = unescapeInPlace(val); !ok {
				reason = "bad escape in value (--unescape accepts \\t \\n \\r \\\\)"
			}
		}
		if reason == "" && len(key) > MaxKeyLen {
			reason = fmt.Sprintf("key is %d bytes, longer than the %d bytes the format can hold", len(key), MaxKeyLen)
		}
		seq := makeSeq(c.file, ln)
		if reason != "" {
			le := LineError{Place: Place{File: p.names[c.file], Line: ln}, Reason: reason}
			if !p.skip {
				return lines, &le
			}
			p.skips.add(le, seq)
			continue
		}
		if err := fn(key, val, seq); err != nil {
			return lines, err
		}
	}
	return lines, nil
}

// unescapeInPlace decodes \t \n \r \\ in b, writing into b itself (the
// rule is package escape's; lines without a backslash cost one scan).
func unescapeInPlace(b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, '\\') < 0 {
		return b, true
	}
	return escape.Unescape(b[:0], b)
}

// maxSkipLog is how many skipped lines are kept for the final report.
const maxSkipLog = 5

// skipLog counts skipped lines and keeps the earliest few (by input order).
type skipLog struct {
	mu    sync.Mutex
	n     int64
	first []LineError
	seqs  []uint64
}

func (s *skipLog) add(le LineError, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	// insert in seq order, keep maxSkipLog
	i := len(s.seqs)
	for i > 0 && s.seqs[i-1] > seq {
		i--
	}
	if i >= maxSkipLog {
		return
	}
	s.seqs = append(s.seqs, 0)
	s.first = append(s.first, LineError{})
	copy(s.seqs[i+1:], s.seqs[i:])
	copy(s.first[i+1:], s.first[i:])
	s.seqs[i], s.first[i] = seq, le
	if len(s.seqs) > maxSkipLog {
		s.seqs, s.first = s.seqs[:maxSkipLog], s.first[:maxSkipLog]
	}
}
