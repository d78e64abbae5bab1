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
does not allocate per key and runs at millions of keys per second: reading,
lookups and printing run at once, as a pipeline. Output is buffered, and
flushed whenever no more input is waiting:
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

// getBatch looks up the keys read from stdin, one per line, in a
// pipeline of three stages that run at once, so that reading, lookups
// and printing share the two cores instead of taking turns:
//
//	read:   gather up to batchKeys lines into a batch (keys copied into
//	        the batch's reused arena)
//	lookup: Dict.GetBatch, whose interleaved loads overlap the cache
//	        misses of many keys, on two goroutines for a large batch
//	print:  this goroutine, batches in input order
//
// Batches are recycled (batchesInFlight of them): no allocation per key.
// A batch ends early when no more input is waiting, and is then flushed
// as soon as it is printed, so a co-process writing one key at a time
// still gets each answer at once.
func getBatch(c *cli.Context, d *reader.Dict, p *printer, showMissing bool) error {
	free := make(chan *lineBatch, batchesInFlight)
	for range batchesInFlight {
		free <- &lineBatch{arena: make([]byte, 0, 128<<10), ends: make([]int, 0, batchKeys), keys: make([][]byte, 0, batchKeys),
			vals: make([][]byte, batchKeys), found: make([]bool, batchKeys)}
	}
	read := make(chan *lineBatch, batchesInFlight)
	looked := make(chan *lineBatch, batchesInFlight)
	stop := make(chan struct{}) // closed when printing stops early
	lookupDone := make(chan struct{})
	defer func() {
		close(stop)
		<-lookupDone // no GetBatch may run after the caller closes d
	}()
	go readBatches(c, bufio.NewReaderSize(c.App.Reader, inBufSize), p.escape, free, read, stop)
	go func() {
		defer close(lookupDone)
		defer close(looked)
		for {
			var b *lineBatch
			select {
			case b = <-read:
			case <-stop: // not waiting for input that may never come
				return
			}
			if b == nil {
				return // read is closed
			}
			if len(b.keys) > 0 {
				b.lookupErr = lookupBatch(d, b.keys, b.vals, b.found)
			}
			select {
			case looked <- b:
			case <-stop:
				return
			}
		}
	}()
	var total, missing int
	for b := range looked {
		if b.lookupErr != nil {
			p.flush()
			return dictError(c, c.Args().First(), b.lookupErr)
		}
		for i, k := range b.keys {
			var err error
			if b.found[i] {
				err = p.pair(k, b.vals[i])
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
		total += len(b.keys)
		if b.err != nil {
			p.flush()
			return ioError(c, "reading stdin", b.err)
		}
		if c.Context.Err() != nil {
			p.flush()
			return c.Context.Err()
		}
		if b.flush {
			if err := p.flush(); err != nil {
				return ioError(c, "writing output", err)
			}
		}
		free <- b
	}
	if err := p.flush(); err != nil {
		return ioError(c, "writing output", err)
	}
	if missing > 0 {
		return &exitError{code: exitNotFound, cmd: "get", msg: fmt.Sprintf("%d of %d keys not found", missing, total)}
	}
	return nil
}

// batchesInFlight is how many batches the batch-mode pipeline owns: one
// being read, one being looked up, one being printed, one spare.
const batchesInFlight = 4

// lineBatch is one batch of batch mode: keys read from stdin and their
// answers.
type lineBatch struct {
	arena     []byte // the keys, back to back
	ends      []int  // end of each key in arena
	keys      [][]byte
	vals      [][]byte
	found     []bool
	flush     bool  // no more input was waiting after the last key
	err       error // reading stdin failed after the keys of this batch
	lookupErr error
}

// readBatches fills batches from free with the lines of in and sends
// them on out, in order, until EOF, a read error (sent with the batch it
// ends), a cancelled context or stop. It closes out.
func readBatches(c *cli.Context, in *bufio.Reader, unescape bool, free <-chan *lineBatch, out chan<- *lineBatch, stop <-chan struct{}) {
	defer close(out)
	var unesc []byte // the unescaped key
	for eof := false; !eof; {
		var b *lineBatch
		select {
		case b = <-free:
		case <-stop:
			return
		}
		b.arena, b.ends, b.flush, b.err, b.lookupErr = b.arena[:0], b.ends[:0], false, nil, nil
		for len(b.ends) < batchKeys && len(b.arena) < batchBytes {
			line, rerr := in.ReadSlice('\n')
			if len(line) == 0 && rerr == io.EOF {
				eof = true
				break
			}
			start := len(b.arena)
			b.arena = append(b.arena, line...)
			for rerr == bufio.ErrBufferFull { // a line longer than the buffer
				line, rerr = in.ReadSlice('\n')
				b.arena = append(b.arena, line...)
			}
			if rerr != nil && rerr != io.EOF {
				b.err, eof = rerr, true
				b.arena = b.arena[:start]
				break
			}
			k := b.arena[start:]
			if n := len(k); n > 0 && k[n-1] == '\n' {
				k = k[:n-1]
				if n := len(k); n > 0 && k[n-1] == '\r' {
					k = k[:n-1]
				}
			}
			if unescape {
				unesc = escape.Lenient(unesc[:0], k)
				k = unesc
			}
			b.arena = append(b.arena[:start], k...) // k may alias unesc or arena[start:]
			b.ends = append(b.ends, len(b.arena))
			if rerr == io.EOF {
				eof = true
				break
			}
			if in.Buffered() == 0 {
				break // the next read may block: answer what we have
			}
		}
		b.flush = eof || in.Buffered() == 0
		b.keys = b.keys[:0]
		for i, e := range b.ends {
			start := 0
			if i > 0 {
				start = b.ends[i-1]
			}
			b.keys = append(b.keys, b.arena[start:e:e])
		}
		b.vals, b.found = b.vals[:len(b.keys)], b.found[:len(b.keys)]
		if len(b.keys) == 0 && b.err == nil {
			return // EOF with nothing read
		}
		select {
		case out <- b:
		case <-stop:
			return
		}
		if c.Context.Err() != nil {
			return
		}
	}
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
