package fst

import (
	"unicode/utf8"

	"github.com/blevesearch/vellum"
)

// This file implements the automaton behind [FST.Fuzzy]: a lazily built
// DFA over key bytes that accepts exactly the keys within a Levenshtein
// distance of a term.
//
// vellum ships a Levenshtein automaton, but it is wrong for long terms: at
// distance 1 it misses matches (even the term itself) once the term is
// longer than about 15 to 30 bytes, so kvdict does not use it.
//
// The distance is over code points. A key is decoded as Go decodes a
// string ([]rune(string(key))): every byte that does not start a valid
// UTF-8 sequence counts as one U+FFFD. So the answer is defined for every
// key, valid UTF-8 or not, and equals a textbook dynamic-programming
// distance on those two rune slices.
//
// A state is one row of that dynamic program: row[i] is the distance
// between the key bytes read so far and term[:i], capped at d+1 (larger
// values never matter), plus the bytes of a UTF-8 sequence not complete
// yet. Rows are interned, so the DFA has one state per distinct (row,
// pending bytes) pair the walk reaches, and each transition is computed
// once per query. A row whose minimum exceeds d can never come back under
// it (the minimum never decreases), so it is the dead state.

// MaxFuzzyTermLen bounds the term of [FST.Fuzzy] in bytes: every state of
// the automaton holds a row of len(term)+1 bytes.
const MaxFuzzyTermLen = 1024

const deadState = 0

type levState struct {
	row     []byte // len(term)+1 distances, capped at d+1
	pending []byte // an incomplete UTF-8 sequence, at most 3 bytes
	match   bool   // the key read so far is within d of the term
}

type levAutomaton struct {
	term   []rune
	d      byte
	states []levState     // by state number; 0 is dead
	ids    map[string]int // (row, pending) -> state number
	trans  map[uint64]int // state<<8 | byte -> state number
	buf    []byte         // scratch for Accept
}

var _ vellum.Automaton = (*levAutomaton)(nil)

// newLevenshtein returns the automaton for keys within distance d of term.
func newLevenshtein(term string, d int) *levAutomaton {
	a := &levAutomaton{
		term:  []rune(term),
		d:     byte(d),
		ids:   make(map[string]int),
		trans: make(map[uint64]int),
	}
	a.states = append(a.states, levState{}) // dead
	row := make([]byte, len(a.term)+1)
	for i := range row {
		row[i] = byte(min(i, d+1))
	}
	a.intern(row, nil)
	return a
}

// Start returns the state before any byte is read.
func (a *levAutomaton) Start() int { return 1 }

// IsMatch reports whether the bytes read so far form a matching key.
func (a *levAutomaton) IsMatch(s int) bool { return a.states[s].match }

// CanMatch reports whether some continuation may still match.
func (a *levAutomaton) CanMatch(s int) bool { return s != deadState }

// WillAlwaysMatch is false: no state matches every continuation.
func (a *levAutomaton) WillAlwaysMatch(int) bool { return false }

// Accept returns the state after reading b in state s.
func (a *levAutomaton) Accept(s int, b byte) int {
	if s == deadState {
		return deadState
	}
	k := uint64(s)<<8 | uint64(b)
	if t, ok := a.trans[k]; ok {
		return t
	}
	st := &a.states[s]
	row := append([]byte(nil), st.row...)
	in := append(append(a.buf[:0], st.pending...), b)
	for len(in) > 0 && utf8.FullRune(in) {
		r, n := utf8.DecodeRune(in)
		a.step(row, r)
		in = in[n:]
	}
	t := deadState
	if minByte(row) <= a.d {
		t = a.intern(row, in)
	}
	a.buf = in[:0]
	a.trans[k] = t
	return t
}

// step advances row by one code point of the key.
func (a *levAutomaton) step(row []byte, r rune) {
	limit := a.d + 1
	diag := row[0]
	row[0] = min(row[0]+1, limit)
	for i, tr := range a.term {
		above := row[i+1]
		v := diag
		if tr != r {
			v++
		}
		v = min(v, above+1, row[i]+1, limit)
		row[i+1] = v
		diag = above
	}
}

// intern returns the number of the state (row, pending), adding it if new.
// row is owned by the automaton from here on.
func (a *levAutomaton) intern(row, pending []byte) int {
	key := string(row) + string(pending)
	if id, ok := a.ids[key]; ok {
		return id
	}
	st := levState{row: row, pending: append([]byte(nil), pending...)}
	// Would the key match if it ended here? Its pending bytes then decode
	// as one U+FFFD each (an incomplete sequence at the end of a string).
	end := row
	if len(pending) > 0 {
		end = append([]byte(nil), row...)
		for range pending {
			a.step(end, utf8.RuneError)
		}
	}
	st.match = end[len(end)-1] <= a.d
	a.states = append(a.states, st)
	id := len(a.states) - 1
	a.ids[key] = id
	return id
}

func minByte(b []byte) byte {
	m := b[0]
	for _, v := range b[1:] {
		m = min(m, v)
	}
	return m
}
