package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// Ensure that sample is reproducible with --seed and prints pairs in key
// order.
func TestSample(t *testing.T) {
	runGolden(t, "sample", []testCase{
		{name: "5 of the user: keys, seeded", args: []string{"sample", "$DICT", "--prefix", "user:", "-n", "5", "--seed", "42"}},
		{name: "more than match: all of them", args: []string{"sample", "$DICT", "-p", "ap", "-n", "5", "--seed", "1"}},
		{name: "json", args: []string{"sample", "-f", "json", "$DICT", "-p", "user:", "-n", "2", "--seed", "7"}},
		{name: "-n 0", args: []string{"sample", "$DICT", "-n", "0"}},
		{name: "empty dictionary", args: []string{"sample", "$EMPTY"}},
	})
}

// Ensure that the sample is uniform: over many seeds, each of the 100
// keys user:0100..user:0199 is picked about equally often (chi-squared).
func TestSampleUniform(t *testing.T) {
	fx := fixtures(t)
	const keys, k, runs = 100, 5, 400
	counts := map[string]int{}
	for seed := range runs {
		r := kvlookup(context.Background(), "", "sample", fx["$DICT"], "-p", "user:01", "-n", strconv.Itoa(k), "--seed", strconv.Itoa(seed))
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for line := range strings.Lines(r.stdout) {
			key, _, _ := strings.Cut(line, "\t")
			counts[key]++
		}
	}
	expected := float64(runs*k) / keys // 20
	chi2, total := 0.0, 0
	for i := range keys {
		n := counts[fmt.Sprintf("user:%04d", 100+i)]
		total += n
		d := float64(n) - expected
		chi2 += d * d / expected
	}
	if total != runs*k {
		t.Fatalf("%d of the sampled pairs are user:01xx keys, want %d", total, runs*k)
	}
	// 99 degrees of freedom: the 99.9th percentile is about 148.
	if chi2 > 148 {
		t.Errorf("chi-squared = %.1f over %d keys: the sample is not uniform (counts %v)", chi2, keys, counts)
	}
}
