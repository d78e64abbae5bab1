package main

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const sampleDescription = `Prints K pairs chosen uniformly at random among the keys that start
with P (all keys without --prefix), in key order: every K-subset of the
matching keys is equally likely. This is the feature-store use case:
draw a training or audit sample without exporting the dictionary.

It is one pass of reservoir sampling (Algorithm R): it walks every
matching key once and holds only K keys in memory (values are not copied:
they stay in the mapped file). When fewer than K keys match, all of them
are printed.

--seed S makes the sample reproducible: the same dictionary, prefix, K and
S give the same sample (PCG-DXSM, pinned by kvlookup's tests). Without
--seed each run draws a different sample.

Exit status: 0, 2 usage (-n below 1), 3 the dictionary cannot be opened
or is corrupt, 4 output error.`

func sampleCommand() *cli.Command {
	return &cli.Command{
		Name:        "sample",
		Usage:       "print a uniform random sample of K pairs, optionally among keys with a prefix",
		ArgsUsage:   "DICT [--prefix P] [-n K] [--seed S]",
		Description: sampleDescription,
		Flags: append(outputFlags(),
			&cli.StringFlag{Name: "prefix", Aliases: []string{"p"}, Usage: "sample only among keys that start with `P`"},
			&cli.IntFlag{Name: "n", Value: 10, Usage: "sample size `K`"},
			&cli.Uint64Flag{Name: "seed", Usage: "random seed `S`, for a reproducible sample", DefaultText: "random"},
		),
		Action: runSample,
	}
}

// sampled is one pair of the reservoir. The key is copied (iterators reuse
// their key buffer); the value aliases the mapping and stays valid until
// the dictionary is closed.
type sampled struct{ k, v []byte }

func runSample(c *cli.Context) (err error) {
	if err := wantArgs(c, "DICT"); err != nil {
		return err
	}
	p, err := newPrinter(c)
	if err != nil {
		return err
	}
	k := c.Int("n")
	if k < 1 {
		return usageErrorf(c, "-n must be at least 1, got %d", k)
	}
	seed := c.Uint64("seed")
	if !c.IsSet("seed") {
		var b [8]byte
		crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	rng := rand.NewPCG(seed, 0x6b7664696374 /* "kvdict" */)

	d, err := openDict(c)
	if err != nil {
		return err
	}
	defer d.Close()
	it := d.Prefix(p.keyArg(c.String("prefix")))
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			err = dictError(c, c.Args().First(), cerr)
		}
	}()
	res, err := reservoir(c, it, k, rng)
	if err != nil {
		return err
	}
	slices.SortFunc(res, func(a, b sampled) int { return bytes.Compare(a.k, b.k) })
	for _, s := range res {
		if err := p.pair(s.k, s.v); err != nil {
			return ioError(c, "writing output", err)
		}
	}
	if err := p.flush(); err != nil {
		return ioError(c, "writing output", err)
	}
	return nil
}

// reservoir returns a uniform sample of k pairs of it (Algorithm R): the
// first k pairs fill the reservoir, and the i-th pair after them (counting
// from 0 overall) replaces a random slot with probability k/(i+1).
func reservoir(c *cli.Context, it *reader.Iterator, k int, rng *rand.PCG) ([]sampled, error) {
	res := make([]sampled, 0, min(k, 1<<16))
	for i := 0; it.Next(); i++ {
		j := i
		if i >= k {
			j = int(below(rng, uint64(i)+1))
		}
		if j < k {
			v := it.Value()
			if v == nil { // unreadable: the iteration ended, Err says why
				break // a damaged value: reported below
			}
			if j == len(res) {
				res = append(res, sampled{bytes.Clone(it.Key()), v})
			} else {
				res[j].k = append(res[j].k[:0], it.Key()...)
				res[j].v = v
			}
		}
		if i%checkInterval == 0 && c.Context.Err() != nil {
			return nil, c.Context.Err()
		}
	}
	if err := it.Err(); err != nil {
		return nil, dictError(c, c.Args().First(), err)
	}
	return res, nil
}

// below returns a random number in [0, n) drawn from src, by the
// multiply-shift method: the high word of a 64x64-bit product. Its bias,
// at most n/2^64, is far below anything a sample could show. It is written
// out here, not taken from math/rand/v2, so that seeded samples depend
// only on the PCG stream.
func below(src *rand.PCG, n uint64) uint64 {
	hi, _ := bits.Mul64(src.Uint64(), n)
	return hi
}
