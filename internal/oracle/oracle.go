// Package oracle computes, the slow and obvious way, what a dictionary built
// from records in input order must hold under each duplicate policy. The
// builder's, extsort's and kvbuild's tests all check against it, so the
// policies have one specification in tests as they have one implementation
// in builder/policy.go.
package oracle

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Record is one input record, in input order.
type Record struct{ Key, Value string }

// Fold returns key → value for records in input order under the policy
// named as kvbuild's --duplicates (last, first, error, sum, count, concat;
// error keeps the only value, the caller checks that keys are unique). Sum
// treats an unparsable value as 0: the caller gives only integers.
func Fold(policy, sep string, recs []Record) map[string]string {
	m := map[string]string{}
	n := map[string]int64{}
	for _, r := range recs {
		old, seen := m[r.Key]
		switch policy {
		case "last", "error":
			m[r.Key] = r.Value
		case "first":
			if !seen {
				m[r.Key] = r.Value
			}
		case "sum":
			x, _ := strconv.ParseInt(r.Value, 10, 64)
			n[r.Key] += x
			m[r.Key] = strconv.FormatInt(n[r.Key], 10)
		case "count":
			n[r.Key]++
			m[r.Key] = strconv.FormatInt(n[r.Key], 10)
		case "concat":
			if seen {
				m[r.Key] = old + sep + r.Value
			} else {
				m[r.Key] = r.Value
			}
		default:
			panic("oracle: unknown policy " + policy)
		}
	}
	return m
}

// Generate makes n records over about 3n/4 distinct keys (n with unique),
// shuffled: URL-like, binary, runs of one byte (keys that are prefixes of
// each other, the empty key) and short keys. Values are integers under
// numeric, else strings holding TABs. With tsv, binary keys hold no TAB,
// newline or carriage return, so the records can be written as TSV lines.
func Generate(r *rand.Rand, n int, numeric, unique, tsv bool) []Record {
	nk := n * 3 / 4
	if unique {
		nk = n
	}
	keys := make([]string, 0, nk)
	seen := map[string]bool{}
	for len(keys) < nk {
		var k string
		switch r.IntN(4) {
		case 0:
			k = fmt.Sprintf("https://www.example%d.com/path/%d", r.IntN(50), r.IntN(100000))
		case 1:
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = byte(r.IntN(256))
				if tsv && (b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
					b[i] = 'x'
				}
			}
			k = string(b)
		case 2:
			k = strings.Repeat("a", r.IntN(20))
		default:
			k = fmt.Sprintf("k%d", r.IntN(1000000))
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	out := make([]Record, n)
	for i := range out {
		k := keys[i%len(keys)]
		if !unique && i >= len(keys) {
			k = keys[r.IntN(len(keys))]
		}
		v := fmt.Sprintf("v%d\twith tab", i)
		if numeric {
			v = strconv.Itoa(r.IntN(2000) - 1000)
		}
		out[i] = Record{Key: k, Value: v}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
