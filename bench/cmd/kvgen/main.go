// Command kvgen writes the deterministic benchmark dataset to stdout:
// N unsorted key<TAB>value lines with about -dup duplicate keys.
//
//	go run ./cmd/kvgen -n 10000000 -keys url -dup 0.05 -seed 1 > data/url-10m.tsv
//
// The output is a pure function of the flags (byte for byte, on any machine);
// see internal/gen for the shapes of keys and values.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kvdict/kvdict/bench/internal/gen"
)

func main() {
	n := flag.Int64("n", 1_000_000, "number of lines")
	keys := flag.String("keys", "url", "key shape: url (~50-byte URLs, zipf domains) or random (32 hex chars)")
	dup := flag.Float64("dup", 0.05, "probability that a line repeats an earlier key (with a new value)")
	seed := flag.Uint64("seed", 1, "seed; the same seed gives the same bytes")
	flag.Parse()
	k, err := gen.ParseKeys(*keys)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvgen:", err)
		os.Exit(2)
	}
	if *n < 0 || *dup < 0 || *dup > 1 {
		fmt.Fprintln(os.Stderr, "kvgen: -n must be >= 0 and -dup within [0, 1]")
		os.Exit(2)
	}
	g := gen.New(gen.Config{N: *n, Keys: k, Dup: *dup, Seed: *seed})
	if err := g.Write(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kvgen:", err)
		os.Exit(1)
	}
}
