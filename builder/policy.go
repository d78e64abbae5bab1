package builder

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Policy decides the value of a key that a [Sorter] receives more than once.
// It is a value, like vellum's MergeFunc: one implementation (this file)
// serves every place where records of one key meet — inside a run before it
// is spilled, in the merge of the runs, and in the sorted path — so a rule
// cannot differ between them.
//
// "Earlier" and "later" mean lower and higher sequence numbers (see
// [Sorter.Add] and [SortWriter.Add]); for [Sorter.Add] that is call order,
// for kvbuild it is file order, then line order.
//
// The zero Policy is [KeepLast].
type Policy struct {
	kind policyKind
	sep  []byte // Concat only
}

type policyKind uint8

const (
	kindLast policyKind = iota
	kindFirst
	kindReject
	kindSum
	kindCount
	kindConcat
)

// policyNames are the names ParsePolicy accepts and String returns, indexed
// by kind. They are kvbuild's --duplicates values.
var policyNames = [...]string{kindLast: "last", kindFirst: "first", kindReject: "error", kindSum: "sum", kindCount: "count", kindConcat: "concat"}

// The policies. Concat, which takes a separator, is a function.
var (
	// KeepLast keeps the value of the latest record (the default).
	KeepLast = Policy{kind: kindLast}
	// KeepFirst keeps the value of the earliest record.
	KeepFirst = Policy{kind: kindFirst}
	// Reject fails the build with a *[DuplicateKeyError] naming the key
	// and two of its records.
	Reject = Policy{kind: kindReject}
	// Sum adds the values, which must be decimal int64 integers
	// ([+-]?[0-9]+); a value that is not, or a key whose total does not
	// fit int64, fails the build with a *[RecordError] (naming the key's
	// last record). Partial sums are 128-bit, so the outcome depends on
	// the total alone, never on the order the records arrive in.
	Sum = Policy{kind: kindSum}
	// Count replaces the value by the number of records of the key, in
	// decimal; the values themselves are ignored.
	Count = Policy{kind: kindCount}
)

// Concat joins the values of a key's records, earliest first, with sep
// between them. It is the only policy that holds a key's whole output value
// in memory, and the only one whose runs keep every record.
func Concat(sep []byte) Policy {
	return Policy{kind: kindConcat, sep: bytes.Clone(sep)}
}

// ParsePolicy returns the policy named name: last, first, error, sum, count
// or concat (with sep as the separator; sep is ignored by the others).
func ParsePolicy(name string, sep []byte) (Policy, error) {
	for k, n := range policyNames {
		if name == n {
			if policyKind(k) == kindConcat {
				return Concat(sep), nil
			}
			return Policy{kind: policyKind(k)}, nil
		}
	}
	return Policy{}, fmt.Errorf("builder: unknown duplicate policy %q (want one of %s)", name, strings.Join(policyNames[:], ", "))
}

// String returns the policy's name, as ParsePolicy accepts it.
func (p Policy) String() string {
	if int(p.kind) < len(policyNames) {
		return policyNames[p.kind]
	}
	return fmt.Sprintf("Policy(%d)", p.kind)
}

// Separator returns Concat's separator (nil for the other policies).
func (p Policy) Separator() []byte { return p.sep }

// reduces reports whether the duplicates inside one run are folded before
// the run is spilled: every policy but concat, whose joined values would
// need memory outside the run's arena.
func (p Policy) reduces() bool { return p.kind != kindConcat }

// numeric reports whether records carry a count or partial sum (record.n)
// instead of a value, in runs and in the merge.
func (p Policy) numeric() bool { return p.kind == kindSum || p.kind == kindCount }

// load puts a record as added (its value as given) into the form the
// policy folds: sum parses the value into r.n, count sets r.n to 1.
func (p Policy) load(r *record) error {
	switch p.kind {
	case kindSum:
		n, ok := parseInt(r.val)
		if !ok {
			return &RecordError{Seq: r.seq, Key: bytes.Clone(r.key), Reason: "value " + quote(r.val) + " is not a decimal int64"}
		}
		r.setInt(n)
	case kindCount:
		r.setInt(1)
	}
	r.last = r.seq
	return nil
}

// loadReduced is load for a record that already stands for all earlier
// records of its key under this policy (a SortedReduced input, such as a
// dictionary built with it): under Count its value is the count so far,
// parsed like a Sum value, not one more occurrence.
func (p Policy) loadReduced(r *record) error {
	if p.kind != kindCount {
		return p.load(r)
	}
	n, ok := parseInt(r.val)
	if !ok || n < 0 {
		return &RecordError{Seq: r.seq, Key: bytes.Clone(r.key), Reason: "value " + quote(r.val) + " of a reduced sorted input is not a count"}
	}
	r.setInt(n)
	r.last = r.seq
	return nil
}

// folder folds the records of one key, in (key, seq) order, into one. The
// sorted path, the in-run reducer and the merge all use it.
type folder struct {
	pol Policy
	// copy says the records' bytes are only valid until the next record
	// (the merge's sources and the sorted path's chunks reuse their
	// buffers), so the key and value are copied into owned buffers. The
	// reducer aliases its run's arena instead, which outlives it.
	copy bool

	acc            record // the folded record; acc.seq decides its place among runs
	keyBuf, valBuf []byte
	numBuf         []byte
}

// start begins a key with its earliest record r (loaded).
func (f *folder) start(r *record) {
	f.acc = *r
	if f.copy {
		f.keyBuf = append(f.keyBuf[:0], r.key...)
		f.valBuf = append(f.valBuf[:0], r.val...)
		f.acc.key, f.acc.val = f.keyBuf, f.valBuf
	}
}

// add folds in a later record r (loaded) of the same key.
func (f *folder) add(r *record) error {
	switch f.pol.kind {
	case kindFirst:
	case kindLast:
		f.acc.seq = r.seq
		if f.copy {
			f.valBuf = append(f.valBuf[:0], r.val...)
			f.acc.val = f.valBuf
		} else {
			f.acc.val = r.val
		}
	case kindReject:
		return &DuplicateKeyError{Key: bytes.Clone(f.acc.key), First: f.acc.seq, Second: r.seq}
	case kindSum, kindCount:
		lo, carry := bits.Add64(uint64(f.acc.n), uint64(r.n), 0)
		f.acc.n, f.acc.hi = int64(lo), f.acc.hi+r.hi+int64(carry)
		f.acc.last = max(f.acc.last, r.last)
	case kindConcat:
		// Only reached with copy: concat runs are not reduced.
		f.valBuf = append(f.valBuf, f.pol.sep...)
		f.valBuf = append(f.valBuf, r.val...)
		f.acc.val = f.valBuf
	}
	return nil
}

// value returns the key's output value: the folded value, or the count or
// sum in decimal. A total outside int64 is an error naming the key's last
// record; partial sums never are (see record.hi).
func (f *folder) value() ([]byte, error) {
	if f.pol.numeric() {
		if f.acc.hi != f.acc.n>>63 {
			return nil, &RecordError{Seq: f.acc.last, Key: bytes.Clone(f.acc.key), Reason: "sum for key " + quote(f.acc.key) + " overflows int64"}
		}
		f.numBuf = strconv.AppendInt(f.numBuf[:0], f.acc.n, 10)
		return f.numBuf, nil
	}
	return f.acc.val, nil
}

// parseInt parses [+-]?[0-9]+ as an int64 without allocating.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		if len(b) > 20 { // leading zeros; rare, let strconv decide
			n, err := strconv.ParseInt(string(b), 10, 64)
			return n, err == nil
		}
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}
