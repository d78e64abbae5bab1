package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

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
Batch mode does not allocate per key and runs at millions of keys per
second. Output is buffered, and flushed whenever no more input is waiting:
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

// getBatch looks up the keys read from stdin, one per line. The line is
// passed straight from the bufio buffer to the zero-copy Get, and the
// value straight from the mapping to the output buffer: no allocation per
// key.
func getBatch(c *cli.Context, d *reader.Dict, p *printer, showMissing bool) error {
	in := bufio.NewReaderSize(c.App.Reader, inBufSize)
	var long, unesc []byte // a line longer than inBufSize; the unescaped key
	var total, notFound int
	for {
		line, rerr := in.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for rerr == bufio.ErrBufferFull {
				line, rerr = in.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if rerr != nil && rerr != io.EOF {
			p.flush()
			return ioError(c, "reading stdin", rerr)
		}
		if len(line) == 0 && rerr == io.EOF {
			break
		}
		k := line
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
		total++
		v, err := d.Get(k)
		switch {
		case err == nil:
			err = p.pair(k, v)
		case errors.Is(err, reader.ErrNotFound):
			notFound++
			err = nil
			if showMissing {
				err = p.missing(k)
			}
		default:
			p.flush()
			return dictError(c, c.Args().First(), err)
		}
		if err != nil {
			return ioError(c, "writing output", err)
		}
		if total%checkInterval == 0 && c.Context.Err() != nil {
			p.flush()
			return c.Context.Err()
		}
		if rerr == io.EOF {
			break
		}
		// Nothing more buffered: the next read may block, so send what we
		// have. A co-process writing one key at a time gets each answer at
		// once; bulk input still gets one write per filled input buffer.
		if in.Buffered() == 0 {
			if err := p.flush(); err != nil {
				return ioError(c, "writing output", err)
			}
		}
	}
	if err := p.flush(); err != nil {
		return ioError(c, "writing output", err)
	}
	if notFound > 0 {
		return &exitError{code: exitNotFound, cmd: "get", msg: fmt.Sprintf("%d of %d keys not found", notFound, total)}
	}
	return nil
}
