package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
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
Batch mode reads stdin in chunks of up to 64 KiB and looks each chunk's
keys up on one of several workers, one per core (reader's GetBatch, which
overlaps the memory loads of many keys), does not allocate per key and
runs at millions of keys per second: reading, lookups and printing run at
once, as a pipeline. Output is buffered, and flushed after each chunk:
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
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile to `FILE` (development)"},
		),
		Action: runGet,
	}
}

func runGet(c *cli.Context) error {
	if name := c.String("cpuprofile"); name != "" {
		f, err := os.Create(name)
		if err != nil {
			return usageErrorf(c, "--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return usageErrorf(c, "--cpuprofile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
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

// inBufSize is how much batch mode reads from stdin at a time: each read
// (plus the incomplete line before it) is one chunk of work. A longer
// line still works: the chunk grows until it holds a whole line.
const inBufSize = 64 << 10

// formatGroup is how many keys a lookup worker resolves with one GetBatch
// call before formatting their output lines, so that the values it copies
// are still in its cache.
const formatGroup = 256

// chunkKeys is the number of keys a chunk has room for at first (4,096
// lines of 16 bytes); it grows if need be, and keeps what it grew to.
const chunkKeys = 4096

// getBatch looks up the keys read from stdin, one per line, in a
// pipeline whose stages run at once, so that reading, lookups and
// printing share the cores instead of taking turns:
//
//	read:   one goroutine reads stdin into chunks: one read(2) each, plus
//	        the incomplete line the previous read ended with; it neither
//	        copies nor splits lines
//	lookup: one worker per core takes whole chunks: splits the lines,
//	        looks the keys up with Dict.GetBatch (whose prefetches overlap
//	        the cache misses of many keys) and formats the output lines
//	        while the values are still in its cache
//	print:  this goroutine writes each chunk's output, in input order, in
//	        one write
//
// The stages hand over whole chunks (about 1,300 URL keys from a pipe),
// never single keys. Formatting in the workers matters: when the print
// stage copied each value out of the mapped file itself, the copy was
// more than half of the process's CPU time, every value coming from
// another core's cache (docs/BENCHMARKS.md §11).
//
// Chunks are recycled: nothing is allocated per key. A chunk ends with
// each read, and its output is flushed as soon as it is printed, so a
// co-process writing one key at a time gets each answer at once.
func getBatch(c *cli.Context, d *reader.Dict, p *printer, showMissing bool) error {
	workers := min(max(runtime.GOMAXPROCS(0), 1), 8)
	free := make(chan *chunk, workers+3)
	for range cap(free) {
		free <- &chunk{buf: make([]byte, 0, 2*inBufSize), out: make([]byte, 0, 4*inBufSize), done: make(chan struct{}, 1),
			keys: make([][]byte, 0, chunkKeys), vals: make([][]byte, chunkKeys), found: make([]bool, chunkKeys)}
	}
	work := make(chan *chunk, cap(free))
	ordered := make(chan *chunk, cap(free))
	stop := make(chan struct{}) // closed when printing stops early
	var lookups sync.WaitGroup
	defer func() {
		close(stop)
		lookups.Wait() // no GetBatch may run after the caller closes d
	}()
	growPipe(c.App.Reader)
	go readChunks(c, c.App.Reader, free, work, ordered, stop)
	for range workers {
		lookups.Go(func() {
			for {
				select {
				case b, ok := <-work:
					if !ok {
						return
					}
					b.lookup(d, p, showMissing)
					b.done <- struct{}{}
				case <-stop:
					return
				}
			}
		})
	}
	var total, missing int
	for b := range ordered {
		<-b.done
		if b.lookupErr != nil {
			p.flush()
			return dictError(c, c.Args().First(), b.lookupErr)
		}
		if err := p.writeThrough(b.out); err != nil {
			return ioError(c, "writing output", err)
		}
		total += len(b.keys)
		missing += b.missing
		if b.err != nil {
			p.flush()
			return ioError(c, "reading stdin", b.err)
		}
		if c.Context.Err() != nil {
			p.flush()
			return c.Context.Err()
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

// chunk is one chunk of batch mode: input bytes read from stdin, then
// their keys, answers and output lines.
type chunk struct {
	buf       []byte // whole lines of input (the last may lack its \n at EOF)
	keys      [][]byte
	vals      [][]byte
	found     []bool
	out       []byte // the output lines
	scratch   []byte // one unescaped key (--escape)
	missing   int    // keys not found
	err       error  // reading stdin failed after the lines of this chunk
	lookupErr error
	done      chan struct{} // the lookup of this chunk is done
}

// readChunks fills chunks from free with whole lines of in and sends
// each to ordered (for the printer) and to work (for a lookup worker),
// until EOF, a read error (sent with the chunk it ends), a cancelled
// context or stop. It closes both channels.
func readChunks(c *cli.Context, in io.Reader, free <-chan *chunk, work, ordered chan<- *chunk, stop <-chan struct{}) {
	defer close(work)
	defer close(ordered)
	var carry []byte // the incomplete line at the end of the last read
	for eof := false; !eof; {
		var b *chunk
		select {
		case b = <-free:
		case <-stop:
			return
		}
		b.buf, b.err = append(b.buf[:0], carry...), nil
		end := 0 // b.buf[:end] holds whole lines
		for {
			b.buf = slices.Grow(b.buf, inBufSize)
			n, err := in.Read(b.buf[len(b.buf) : len(b.buf)+inBufSize])
			read := b.buf[len(b.buf) : len(b.buf)+n]
			b.buf = b.buf[:len(b.buf)+n]
			if i := bytes.LastIndexByte(read, '\n'); i >= 0 {
				end = len(b.buf) - n + i + 1
			}
			if err == io.EOF {
				end, eof = len(b.buf), true // the last line may lack its \n
				break
			}
			if err != nil {
				b.err, eof = err, true // the incomplete line is dropped
				break
			}
			if end > 0 {
				break // answer what we have: the next read may block
			}
		}
		carry = append(carry[:0], b.buf[end:]...)
		b.buf = b.buf[:end]
		if len(b.buf) == 0 && b.err == nil {
			return // EOF with nothing read
		}
		select {
		case ordered <- b:
		case <-stop:
			return
		}
		work <- b // never blocks: it has room for every chunk
		if c.Context.Err() != nil {
			return
		}
	}
}

// lookup splits the chunk's lines into keys (a trailing \n, and a \r
// before it, removed; unescaped with --escape), looks them up and
// formats the output lines.
func (b *chunk) lookup(d *reader.Dict, p *printer, showMissing bool) {
	b.keys, b.out, b.missing, b.lookupErr = b.keys[:0], b.out[:0], 0, nil
	for data := b.buf; len(data) > 0; {
		k := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			k, data = data[:i], data[i+1:]
			if n := len(k); n > 0 && k[n-1] == '\r' {
				k = k[:n-1]
			}
		} else {
			data = nil
		}
		if p.escape { // never longer than k: unescaped in place
			b.scratch = escape.Lenient(b.scratch[:0], k)
			k = k[:copy(k, b.scratch)]
		}
		b.keys = append(b.keys, k[:len(k):len(k)])
	}
	if n := len(b.keys); len(b.vals) < n {
		b.vals, b.found = make([][]byte, n), make([]bool, n)
	}
	vals, found := b.vals[:len(b.keys)], b.found[:len(b.keys)]
	for lo := 0; lo < len(b.keys); lo += formatGroup {
		hi := min(lo+formatGroup, len(b.keys))
		if err := d.GetBatch(b.keys[lo:hi], vals[lo:hi], found[lo:hi]); err != nil {
			b.lookupErr = err
			return
		}
		for j := lo; j < hi; j++ {
			switch {
			case found[j]:
				b.out = p.appendPair(b.out, b.keys[j], vals[j])
			case showMissing:
				b.missing++
				b.out = p.appendMissing(b.out, b.keys[j])
			default:
				b.missing++
			}
		}
	}
}
