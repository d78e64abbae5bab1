package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/internal/escape"
	"github.com/kvdict/kvdict/reader"
)

// This file holds what every command shares: the output flags, the
// TSV and JSON-lines encoders, opening a dictionary and draining an
// iterator. The formats are documented for users in appDescription.

// outBufSize is the stdout buffer. Large enough that batch lookups and
// dumps make one write(2) per many records.
const outBufSize = 256 << 10

// outputFlags returns fresh --format and --escape flags: the app and every
// command get their own instances, so they can be given before or after the
// command name.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "format",
			Aliases: []string{"f"},
			Value:   "tsv",
			Usage:   "output `FORMAT`: tsv (key<TAB>value lines), json (JSON lines; see kvlookup --help), or raw (get DICT KEY: the value's exact bytes, no newline)",
		},
		&cli.BoolFlag{
			Name:               "escape",
			Aliases:            []string{"e"},
			Usage:              `print \ TAB LF CR inside keys and values as \\ \t \n \r, and unescape the keys given`,
			DisableDefaultText: true,
		},
	}
}

// keysOnlyFlag is --keys-only for the listing commands.
func keysOnlyFlag() cli.Flag {
	return &cli.BoolFlag{Name: "keys-only", Aliases: []string{"k"}, Usage: "print only the keys, one per line (JSON: {\"key\":...}); values are not even read", DisableDefaultText: true}
}

// limitFlag is --limit for the listing commands.
func limitFlag() cli.Flag {
	return &cli.IntFlag{Name: "limit", Aliases: []string{"l"}, Usage: "print at most `N` pairs (0: no limit)"}
}

// lookup returns the context in c's lineage where flag name was set (the
// command's own flags win over the app's), or c itself.
func lookup(c *cli.Context, name string) *cli.Context {
	for _, cc := range c.Lineage() {
		if cc.IsSet(name) {
			return cc
		}
	}
	return c
}

type format uint8

const (
	formatTSV format = iota
	formatJSON
	formatRaw // get DICT KEY: the value's bytes exactly, nothing added
)

// printer writes pairs to stdout in the chosen format through a large
// buffer, reusing one scratch slice: printing a pair allocates nothing.
type printer struct {
	w        *bufio.Writer
	raw      io.Writer // what w writes to
	format   format
	escape   bool
	keysOnly bool // --keys-only: listings print keys alone
	buf      []byte
}

// newPrinter reads --format and --escape from c.
func newPrinter(c *cli.Context) (*printer, error) {
	p := &printer{w: bufio.NewWriterSize(c.App.Writer, outBufSize), raw: c.App.Writer, escape: lookup(c, "escape").Bool("escape")}
	switch f := lookup(c, "format").String("format"); f {
	case "tsv":
		p.format = formatTSV
	case "json":
		p.format = formatJSON
	case "raw":
		if commandName(c) != "get" {
			return nil, usageErrorf(c, "--format raw is for get DICT KEY (one value, byte for byte); use tsv or json here")
		}
		p.format = formatRaw
	default:
		return nil, usageErrorf(c, "--format must be tsv, json or raw (get), not %q", f)
	}
	return p, nil
}

// keyArg turns a key given on the command line into bytes, unescaping it
// with --escape.
func (p *printer) keyArg(s string) []byte {
	if p.escape {
		return escape.Lenient(nil, []byte(s))
	}
	return []byte(s)
}

// pair prints a key and its value.
func (p *printer) pair(k, v []byte) error {
	if p.format == formatTSV && !p.escape { // no copy into p.buf
		p.w.Write(k)
		p.w.WriteByte('\t')
		p.w.Write(v)
		return p.w.WriteByte('\n')
	}
	p.buf = p.appendPair(p.buf[:0], k, v)
	_, err := p.w.Write(p.buf)
	return err
}

// appendPair appends the line pair prints for k and v to dst. It
// allocates only to grow dst.
func (p *printer) appendPair(dst, k, v []byte) []byte {
	switch {
	case p.format == formatJSON:
		return appendJSONPair(dst, k, v, true)
	case p.escape:
		dst = escape.Append(dst, k)
		dst = append(dst, '\t')
		dst = escape.Append(dst, v)
	default:
		dst = append(dst, k...)
		dst = append(dst, '\t')
		dst = append(dst, v...)
	}
	return append(dst, '\n')
}

// appendMissing appends the line missing prints for k to dst.
func (p *printer) appendMissing(dst, k []byte) []byte {
	switch {
	case p.format == formatJSON:
		return appendJSONPair(dst, k, nil, false)
	case p.escape:
		dst = escape.Append(dst, k)
	default:
		dst = append(dst, k...)
	}
	return append(dst, '\n')
}

// value prints what `get DICT KEY...` prints for a found key: the value
// alone in TSV, the whole pair in JSON, the value's bytes alone in raw.
func (p *printer) value(k, v []byte) error {
	switch p.format {
	case formatJSON:
		return p.json(k, v, true)
	case formatRaw:
		_, err := p.w.Write(v)
		return err
	}
	if p.escape {
		p.buf = escape.Append(p.buf[:0], v)
		v = p.buf
	}
	p.w.Write(v)
	return p.w.WriteByte('\n')
}

// key prints a key alone (--keys-only).
func (p *printer) key(k []byte) error {
	if p.format == formatJSON {
		b := append(p.buf[:0], '{')
		b = appendJSONField(b, "key", k)
		p.buf = append(b, '}', '\n')
		_, err := p.w.Write(p.buf)
		return err
	}
	return p.missing(k) // the same line: the key alone
}

// missing prints an absent key (get --missing): in TSV the key alone,
// with no TAB, so it cannot be mistaken for a key with an empty value
// ("key<TAB>"); in JSON the value is null.
func (p *printer) missing(k []byte) error {
	if p.format == formatJSON {
		return p.json(k, nil, false)
	}
	if p.escape {
		p.buf = escape.Append(p.buf[:0], k)
		k = p.buf
	}
	p.w.Write(k)
	return p.w.WriteByte('\n')
}

func (p *printer) json(k, v []byte, found bool) error {
	p.buf = appendJSONPair(p.buf[:0], k, v, found)
	_, err := p.w.Write(p.buf)
	return err
}

// appendJSONPair appends the JSON line of k and v (found) or of k alone
// with "value":null (!found) to dst.
func appendJSONPair(dst, k, v []byte, found bool) []byte {
	b := append(dst, '{')
	b = appendJSONField(b, "key", k)
	b = append(b, ',')
	if found {
		b = appendJSONField(b, "value", v)
	} else {
		b = append(b, `"value":null`...)
	}
	return append(b, '}', '\n')
}

// line prints one line of text (info, verify, count).
func (p *printer) line(format string, args ...any) error {
	_, err := fmt.Fprintf(p.w, format+"\n", args...)
	return err
}

// flush writes out what is buffered.
func (p *printer) flush() error { return p.w.Flush() }

// writeThrough writes what is buffered, then b, without copying b into
// the buffer: batch get hands over each chunk's output lines whole.
func (p *printer) writeThrough(b []byte) error {
	if err := p.w.Flush(); err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	_, err := p.raw.Write(b)
	return err
}

// appendJSONField appends "name":"s" when s is valid UTF-8, otherwise
// "name_b64":"<standard base64 of s>".
func appendJSONField(dst []byte, name string, s []byte) []byte {
	dst = append(dst, '"')
	dst = append(dst, name...)
	if !utf8.Valid(s) {
		dst = append(dst, `_b64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, s)
		return append(dst, '"')
	}
	dst = append(dst, `":`...)
	return appendJSONString(dst, s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s, which must be valid UTF-8, as a JSON string.
// Besides what JSON requires (quote, backslash, bytes below 0x20) it
// escapes U+2028 and U+2029, which JavaScript treats as line ends.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var esc string
		switch {
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c == '\n':
			esc = `\n`
		case c == '\r':
			esc = `\r`
		case c == '\t':
			esc = `\t`
		case c < 0x20:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			start = i + 1
			continue
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, hexDigits[s[i+2]-0xa0])
			i += 2
			start = i + 1
			continue
		default:
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// quoteKey shows a key in an error message: Go-quoted, so that spaces,
// control characters and invalid UTF-8 are visible.
func quoteKey(k []byte) string { return strconv.Quote(string(k)) }

// openDict opens the dictionary named by the first argument, or returns
// an error with exit status 3 that says what is wrong and what to do.
func openDict(c *cli.Context) (*reader.Dict, error) {
	if c.NArg() < 1 {
		return nil, usageErrorf(c, "missing DICT argument")
	}
	path := c.Args().First()
	d, err := reader.Open(path, nil)
	if err != nil {
		return nil, dictError(c, path, err)
	}
	return d, nil
}

// dictError turns an error from the reader into the message the user sees
// (exit 3). The forms are listed in appDescription.
func dictError(c *cli.Context, path string, err error) error {
	var msg string
	switch {
	case errors.Is(err, reader.ErrCorrupt):
		msg = fmt.Sprintf("%s is corrupt: %v\n", path, err)
		if commandName(c) == "verify" {
			msg += "do not use it: rebuild it with kvbuild, or copy it again from a good source"
		} else {
			msg += fmt.Sprintf("run 'kvlookup verify %s' for a full check, then rebuild or copy the dictionary again", path)
		}
	case errors.Is(err, reader.ErrMagic):
		msg = fmt.Sprintf("%s is not a kvdict dictionary: %v", path, err)
	case errors.Is(err, reader.ErrVersion):
		msg = fmt.Sprintf("%s needs a newer kvlookup: %v", path, err)
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(path); serr != nil {
			msg = fmt.Sprintf("%s: no such file or directory", path)
		} else {
			msg = fmt.Sprintf("%s is not a kvdict dictionary: it has no MANIFEST file (a dictionary is the directory kvbuild writes)", path)
		}
	case errors.Is(err, fs.ErrPermission):
		msg = fmt.Sprintf("%s: permission denied: %v", path, err)
	default:
		msg = err.Error()
	}
	return &exitError{code: exitDict, cmd: commandName(c), msg: msg}
}

// checkInterval is how many records pass between two checks for Ctrl-C.
const checkInterval = 1 << 14

// drain prints the pairs of it, at most limit of them if limit > 0, and
// closes it.
func drain(c *cli.Context, it *reader.Iterator, p *printer, limit int) (err error) {
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			err = dictError(c, c.Args().First(), cerr)
		}
	}()
	n := 0
	for it.Next() {
		var err error
		if p.keysOnly {
			err = p.key(it.Key()) // the value is never read
		} else {
			v := it.Value()
			if v == nil { // unreadable: the iteration ended, Err says why
				break // a damaged value: reported below, never printed as empty
			}
			err = p.pair(it.Key(), v)
		}
		if err != nil {
			return ioError(c, "writing output", err)
		}
		n++
		if limit > 0 && n >= limit {
			break
		}
		if n%checkInterval == 0 && c.Context.Err() != nil {
			p.flush()
			return c.Context.Err()
		}
	}
	if err := it.Err(); err != nil {
		p.flush()
		return dictError(c, c.Args().First(), err)
	}
	if err := p.flush(); err != nil {
		return ioError(c, "writing output", err)
	}
	return nil
}

// getLimit reads --limit.
func getLimit(c *cli.Context) (int, error) {
	n := c.Int("limit")
	if n < 0 {
		return 0, usageErrorf(c, "--limit must not be negative, got %d", n)
	}
	return n, nil
}

// wantArgs checks that c has exactly the positional arguments named.
func wantArgs(c *cli.Context, names ...string) error {
	for i, n := range names {
		if c.NArg() <= i {
			return usageErrorf(c, "missing %s argument", n)
		}
	}
	if c.NArg() > len(names) {
		return usageErrorf(c, "unexpected argument %q", c.Args().Get(len(names)))
	}
	return nil
}

// listAction is the action shared by the commands that print the pairs an
// iterator yields (dump, prefix, range, regex, fuzzy): check the arguments,
// read the output flags, open DICT, run the command's query and print
// what it yields.
func listAction(args []string, query func(c *cli.Context, p *printer, d *reader.Dict) (*reader.Iterator, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := wantArgs(c, args...); err != nil {
			return err
		}
		p, err := newPrinter(c)
		if err != nil {
			return err
		}
		p.keysOnly = c.Bool("keys-only")
		limit, err := getLimit(c)
		if err != nil {
			return err
		}
		d, err := openDict(c)
		if err != nil {
			return err
		}
		defer d.Close()
		it, err := query(c, p, d)
		if err != nil {
			return err
		}
		return drain(c, it, p, limit)
	}
}
