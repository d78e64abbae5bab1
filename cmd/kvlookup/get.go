package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/internal/escape"
	"github.com/kvdict/kvdict/reader"
)

const getDescription = `With KEYs, prints the value of each KEY followed by a newline, in the
order given (--format json prints {"key":...,"value":...} lines instead).
A KEY that is not in the dictionary is reported on stderr as
   kvlookup get: key not found: "KEY"
and kvlookup exits with status 1 after printing the values of the others.
With --missing, the output lines up with the KEYs one to one, as in batch
mode below: "key<TAB>value" for a key found, the key alone for a key
absent, then "N of M keys not found" on stderr and exit 1.

--format raw prints the value of one KEY exactly as stored: no newline
added, no escaping (kvlookup get -f raw DICT KEY > value.bin). An absent
KEY prints nothing, is reported on stderr and exits 1.

With no KEY, get is a batch lookup for pipes: it reads keys from stdin,
one per line (a trailing \n, and a \r before it, are removed; an empty
line is the empty key), and prints "key<TAB>value" for each key found, in
input order. Absent keys print nothing; at the end, if any were absent,
one line on stderr says
   kvlookup get: N of M keys not found
and the exit status is 1. With --missing, each absent key is also printed
in place, so output and input line up one to one:
   tsv:  the key alone, with no TAB ("key<TAB>" is a key whose value is
         empty, "key" is an absent key): awk -F'\t' 'NF == 1' finds them
   json: {"key":"k","value":null}
Batch mode looks keys up in batches of up to 4096 (reader's GetBatch,
which overlaps the memory loads of many keys; large batches on two cores),
does not allocate per key and runs at millions of keys per second. Output is buffered, and flushed whenever no more input is waiting:
a co-process that writes one key and waits gets its answer at once, while
bulk input still goes out in large writes.

With --escape, KEYs and the keys read from stdin are unescaped (\t \n \r
\\) before the lookup, and keys and values are printed escaped.

Exit status: 0 all keys found, 1 some key not found, 2 usage, 3 the
dictionary cannot be opened or is corrupt, 4 stdin/stdout I/O error.`

func getCommand() *cli.Command {
	return &cli.Command{
		Name:        "get",
		Usage:       "print the values of keys given as arguments, or of keys read from stdin",
		ArgsUsage:   "DICT [KEY...]",
		Description: getDescription,
		Flags: append(outputFlags(),
			&cli.BoolFlag{Name: "missing", Aliases: []string{"m"}, Usage: "print absent keys in place, so output lines match the keys (see above)", DisableDefaultText: true},
		),
		Action: runGet,
	}
}

func runGet(c *cli.Context) error {
	p, err := newPrinter(c)
	if err != nil {
		return err
	}
	if p.format == formatRaw && c.NArg() != 2 {
		return usageErrorf(c, "--format raw prints one value byte for byte: give DICT and exactly one KEY")
	}
	d, err := openDict(c)
	if err != nil {
		return err
	}
	defer d.Close()
	showMissing := c.Bool("missing")
	if c.NArg() == 1 {
		return getBatch(c, d, p, showMissing)
	}
	keys := c.Args().Slice()[1:]
	notFound := 0
	for _, arg := range keys {
		k := p.keyArg(arg)
		v, err := d.Get(k)
		switch {
		case errors.Is(err, reader.ErrNotFound):
			notFound++
			if showMissing { // in place, as in batch mode
				err = p.missing(k)
				break
			}
			if err := p.flush(); err != nil {
				return ioError(c, "writing output", err)
			}
			fmt.Fprintf(c.App.ErrWriter, "kvlookup get: key not found: %s\n", quoteKey(k))
			continue
		case err != nil:
			p.flush()
			return dictError(c, c.Args().First(), err)
		case showMissing && p.format == formatTSV:
			err = p.pair(k, v) // key<TAB>value, so lines match the keys
		default:
			err = p.value(k, v)
		}
		if err != nil {
			return ioError(c, "writing output", err)
		}
	}
	if err := p.flush(); err != nil {
		return ioError(c, "writing output", err)
	}
	switch {
	case notFound > 0 && showMissing:
		return &exitError{code: exitNotFound, cmd: "get", msg: fmt.Sprintf("%d of %d keys not found", notFound, len(keys))}
	case notFound > 0:
		return &exitError{code: exitNotFound} // each key was reported above
	}
	return nil
}

// inBufSize is the stdin buffer of batch mode; longer lines still work,
// through a slower path.
const inBufSize = 64 << 10

// Batch mode gathers up to batchKeys keys (or batchBytes of them) before
// looking them up together with Dict.GetBatch; a batch of at least
// splitBatch keys is split in two halves looked up on two goroutines.
const (
	batchKeys  = 4096
	batchBytes = 1 << 20
	splitBatch = 512
)

// getBatch looks up the keys read from stdin, one per line. Keys are
// gathered into batches (copied into one reused buffer), looked up with
// Dict.GetBatch, whose interleaved loads overlap the cache misses of many
// keys, on two cores for large batches, and printed in input order. Values
// go straight from the mapping to the output buffer: no allocation per
// key. A batch ends early when no more input is waiting, so a co-process
// writing one key at a time still gets each answer at once.
func getBatch(c *cli.Context, d *reader.Dict, p *printer, showMissing bool) error {
	in := bufio.NewReaderSize(c.App.Reader, inBufSize)
	var (
		unesc   []byte // the unescaped key
		arena   []byte // this batch's keys, back to back
		ends    []int  // end of each key in arena
		keys    [][]byte
		vals    [][]byte
		found   []bool
		total   int
		missing int
	)
	for eof := false; !eof; {
		arena, ends = arena[:0], ends[:0]
		for len(ends) < batchKeys && len(arena) < batchBytes {
			line, rerr := in.ReadSlice('\n')
			if len(line) == 0 && rerr == io.EOF {
				eof = true
				break
			}
			arena = append(arena, line...)
			for rerr == bufio.ErrBufferFull { // a line longer than the buffer
				line, rerr = in.ReadSlice('\n')
				arena = append(arena, line...)
			}
			if rerr != nil && rerr != io.EOF {
				p.flush()
				return ioError(c, "reading stdin", rerr)
			}
			start := 0
			if len(ends) > 0 {
				start = ends[len(ends)-1]
			}
			k := arena[start:]
			if n := len(k); n > 0 && k[n-1] == '\n' {
				k = k[:n-1]
				if n := len(k); n > 0 && k[n-1] == '\r' {
					k = k[:n-1]
				}
			}
			if p.escape {
				unesc = escape.Lenient(unesc[:0], k)
				k = unesc
			}
			arena = append(arena[:start], k...) // k may alias unesc or arena[start:]
			ends = append(ends, len(arena))
			if rerr == io.EOF {
				eof = true
				break
			}
			if in.Buffered() == 0 {
				break // the next read may block: answer what we have
			}
		}
		if len(ends) == 0 {
			break
		}
		keys = keys[:0]
		for i, e := range ends {
			start := 0
			if i > 0 {
				start = ends[i-1]
			}
			keys = append(keys, arena[start:e:e])
		}
		if cap(vals) < len(keys) {
			vals, found = make([][]byte, batchKeys), make([]bool, batchKeys)
		}
		vals, found = vals[:len(keys)], found[:len(keys)]
		if err := lookupBatch(d, keys, vals, found); err != nil {
			p.flush()
			return dictError(c, c.Args().First(), err)
		}
		for i, k := range keys {
			var err error
			if found[i] {
				err = p.pair(k, vals[i])
			} else {
				missing++
				if showMissing {
					err = p.missing(k)
				}
			}
			if err != nil {
				return ioError(c, "writing output", err)
			}
		}
		total += len(keys)
		if c.Context.Err() != nil {
			p.flush()
			return c.Context.Err()
		}
		if in.Buffered() == 0 {
			if err := p.flush(); err != nil {
				return ioError(c, "writing output", err)
			}
		}
	}
	if err := p.flush(); err != nil {
		return ioError(c, "writing output", err)
	}
	if missing > 0 {
		return &exitError{code: exitNotFound, cmd: "get", msg: fmt.Sprintf("%d of %d keys not found", missing, total)}
	}
	return nil
}

// lookupBatch runs GetBatch, on two goroutines when the batch is large.
func lookupBatch(d *reader.Dict, keys, vals [][]byte, found []bool) error {
	if len(keys) < splitBatch {
		return d.GetBatch(keys, vals, found)
	}
	h := len(keys) / 2
	var wg sync.WaitGroup
	var err2 error
	wg.Go(func() { err2 = d.GetBatch(keys[h:], vals[h:], found[h:]) })
	err1 := d.GetBatch(keys[:h], vals[:h], found[:h])
	wg.Wait()
	return errors.Join(err1, err2)
}
