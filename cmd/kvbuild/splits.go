package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/escape"
)

const splitsDescription = `kvbuild splits samples the keys of its INPUTs and prints at most N-1 split
keys, one per line in byte order, that cut the key space into N ranges of
about equal size: range 0 is below the first split key, range i from split
key i-1 (included) to split key i (excluded), range N-1 from the last split
key up. An engine (Dask, Spark, Beam ...) routes each row to its range and
builds each range with 'kvbuild part --splits FILE --range I'.

INPUT is TSV as kvbuild reads it (the key is the bytes before the first
TAB), or a file of sample keys, one per line (a line without a TAB is a
key); .gz and .zst are read transparently; - is standard input. Keys are
sampled uniformly (reservoir sampling, --sample keys, with a fixed seed:
the same input gives the same split keys). Fewer split keys come out when
the sample holds fewer distinct keys.

Split keys are printed escaped by kvbuild's --unescape rule (\\ \t \n \r),
whatever the input, so that keys holding a TAB or newline survive; 'kvbuild
part' decodes them the same way. With --unescape, input keys are decoded
first, as kvbuild --unescape decodes them.

EXIT STATUS: 0 done; 1 a bad escape under --unescape (FILE:LINE); 2 usage;
3 an INPUT cannot be read.`

func newSplitsApp(stdin io.Reader, stdout, _ io.Writer) *cli.App {
	return &cli.App{
		Name:        "kvbuild splits",
		Usage:       "print split keys that cut the input's keys into N ranges",
		UsageText:   "kvbuild splits -n N [--sample SIZE] [--unescape] INPUT...",
		Description: splitsDescription,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "ranges", Aliases: []string{"n"}, Usage: "cut into `N` ranges (prints at most N-1 keys)", Required: true},
			&cli.IntFlag{Name: "sample", Usage: "sample `SIZE` keys", DefaultText: "100 per range, at least 10000"},
			&cli.BoolFlag{Name: "unescape", Usage: "decode \\t \\n \\r \\\\ in input keys (as kvbuild --unescape)"},
			&cli.IntFlag{Name: "skip-header", Usage: "skip the first `N` lines of every INPUT"},
		},
		Action: func(c *cli.Context) error {
			n := c.Int("ranges")
			if n < 1 {
				return usageErr("-n must be at least 1")
			}
			if c.NArg() == 0 {
				return usageErr("no INPUT given (use - for standard input)")
			}
			size := c.Int("sample")
			if size <= 0 {
				size = max(100*n, 10000)
			}
			s := builder.NewSampler(size)
			for _, name := range c.Args().Slice() {
				if err := sampleInput(s, name, stdin, c.Bool("unescape"), c.Int("skip-header")); err != nil {
					return err
				}
			}
			w := bufio.NewWriter(stdout)
			var line []byte
			for _, k := range builder.SplitKeys(s.Keys(), n) {
				line = append(escape.Append(line[:0], k), '\n')
				w.Write(line)
			}
			return w.Flush()
		},
	}
}

// sampleInput offers every key of one INPUT to s.
func sampleInput(s *builder.Sampler, name string, stdin io.Reader, unescape bool, skip int) error {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return &exitError{exitIO, err}
		}
		defer f.Close()
		r = f
	}
	r, err := openText(name, r)
	if err != nil {
		return &exitError{exitIO, err}
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var buf []byte
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			buf = append(buf[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if len(line) > 0 && lineNo > skip {
			line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
			key := line
			if i := bytes.IndexByte(line, '\t'); i >= 0 {
				key = line[:i]
			}
			if unescape {
				var ok bool
				if key, ok = escape.Unescape(nil, key); !ok {
					return &exitError{exitInput, fmt.Errorf("%s:%d: bad escape in key (only \\t \\n \\r \\\\)", name, lineNo)}
				}
			}
			if len(line) > 0 {
				s.Add(key)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &exitError{exitIO, fmt.Errorf("%s: %w", name, err)}
		}
	}
}

// openText decompresses gzip or zstd input, recognised by its first bytes.
func openText(name string, r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		return zr, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%s: zstd: %w", name, err)
		}
		return zr.IOReadCloser(), nil
	}
	return br, nil
}

// readSplits reads a split-key file as `kvbuild splits` writes it.
func readSplits(name string) ([][]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &exitError{exitIO, err}
	}
	var splits [][]byte
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(data) == 0 {
		lines = nil
	}
	for i, l := range lines {
		k, ok := escape.Unescape(nil, l)
		switch {
		case !ok:
			return nil, usageErr("--splits %s:%d: bad escape (only \\t \\n \\r \\\\)", name, i+1)
		case len(k) == 0:
			return nil, usageErr("--splits %s:%d: empty split key", name, i+1)
		case len(splits) > 0 && bytes.Compare(splits[len(splits)-1], k) >= 0:
			return nil, usageErr("--splits %s:%d: split keys are not in increasing byte order", name, i+1)
		}
		splits = append(splits, k)
	}
	return splits, nil
}
