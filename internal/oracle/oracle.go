// Package oracle computes, the slow and obvious way, what a dictionary built
// from records in input order must hold under each duplicate policy. The
// builder's, extsort's and kvbuild's tests all check against it, so the
// policies have one specification in tests as they have one implementation
// in builder/policy.go.
package oracle

import "strconv"

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
