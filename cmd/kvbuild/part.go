package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/escape"
)

const partDescription = `kvbuild part builds one key range of a dictionary built across machines:
its INPUT rows (in any order, from files or - for standard input, read by
the same rules and with the same flags as a plain kvbuild) become a part in
DIR: data files NAME-00000.fst, .vlog (and .hix with --hash-index), then
NAME.part.json, the part's description (range, key and value counts, sizes,
CRC-32C checksums, format features, build options), written last: a part
exists once its .part.json does. The description is also printed on
standard output, as one line of JSON. 'kvbuild join' makes the dictionary.

THE RANGE
   --splits FILE --range I   range I of the split keys in FILE (as 'kvbuild
                             splits' prints them): 0 <= I <= number of keys
   --lo KEY --hi KEY         keys from LO (included) to HI (excluded);
                             without --lo from the smallest key, without
                             --hi with no upper bound; KEY is escaped by the
                             --unescape rule (\\ \t \n \r)
   A key outside the range is an error (exit 1): the engine sent the row
   to the wrong part. All rows of one key must reach the same part, which
   routing by range guarantees.

NAMES AND RETRIES
   NAME must be unique per attempt (for example part-00042-<task attempt
   id>): a retried or speculative task writes a complete second part under
   its own name, never over the first. Pass 'kvbuild join' exactly one
   part per range; delete the others. Without --name a random one is made,
   part-RRRRR-XXXXXXXXXXXXXXXX with --range, part-XXXXXXXXXXXXXXXX without.
   The part is built in DIR/.NAME.build (removed at the end): DIR needs
   the space, and --tmp-dir defaults to DIR.

DUPLICATE KEYS
   --duplicates error, sum and count give the same result whatever the
   order of the rows, so they are safe whatever the engine does. last,
   first and concat depend on the order in which a key's rows reach the
   part, which engines do not keep across machines (a shuffle reorders
   rows): use them only when the engine delivers each range's rows in a
   defined order (for example sorted by a sequence column).

EXIT STATUS: as kvbuild: 0 written; 1 invalid input, including a key
outside the range; 2 usage; 3 I/O; 130 interrupted (nothing written).`

// newPartApp is kvbuild with the part's flags in place of -o, --force and
// --publish: the same input rules, duplicate policies and options.
func newPartApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := newApp(stdin, stdout, stderr)
	app.Name = "kvbuild part"
	app.Usage = "build one key range of a dictionary as a part, for kvbuild join"
	app.UsageText = "kvbuild part --dir DIR [--name NAME] (--splits FILE --range I | [--lo KEY] [--hi KEY]) [flags] INPUT..."
	app.Description = partDescription
	app.Version = ""
	app.HideVersion = true
	flags := []cli.Flag{
		&cli.StringFlag{Name: "dir", Usage: "write the part into directory `DIR` (created if absent)", Required: true},
		&cli.StringFlag{Name: "name", Usage: "the part's attempt-unique `NAME`", DefaultText: "random"},
		&cli.StringFlag{Name: "splits", Usage: "split keys `FILE` from kvbuild splits"},
		&cli.IntFlag{Name: "range", Usage: "build range `I` of --splits", Value: -1, DefaultText: "none"},
		&cli.StringFlag{Name: "lo", Usage: "the range's smallest `KEY` (escaped)"},
		&cli.StringFlag{Name: "hi", Usage: "the `KEY` the range ends before (escaped)"},
		// action reads the output path from this flag; the part's
		// temporary dictionary goes there.
		&cli.StringFlag{Name: "output", Hidden: true},
	}
	// Not part flags: the target (-o, --force, --publish) is the join's;
	// an update (--base, --delete) covers a whole dictionary, not a range.
	notPart := map[string]bool{"output": true, "force": true, "publish": true, "base": true, "delete": true}
	for _, f := range app.Flags {
		if !notPart[f.Names()[0]] {
			flags = append(flags, f)
		}
	}
	app.Flags = flags
	app.Action = func(c *cli.Context) error { return partAction(c, stdin, stdout, stderr) }
	return app
}

func partAction(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	if c.IsSet("output") {
		return usageErr("-o is not a part flag: the part goes to --dir")
	}
	r, idx, err := partRange(c)
	if err != nil {
		return err
	}
	dir := c.String("dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &exitError{exitIO, err}
	}
	name := c.String("name")
	if name == "" {
		var rnd [8]byte
		rand.Read(rnd[:])
		name = "part-" + hex.EncodeToString(rnd[:])
		if idx >= 0 {
			name = fmt.Sprintf("part-%05d-%s", idx, hex.EncodeToString(rnd[:]))
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, name+builder.PartSuffix)); err == nil {
		return usageErr("part %s already exists in %s: give every attempt its own --name", name, dir)
	}
	tmp := filepath.Join(dir, "."+name+".build")
	if err := c.Set("output", tmp); err != nil {
		return err
	}
	if err := action(c, stdin, stderr); err != nil {
		return err
	}
	info, err := builder.MakePart(tmp, dir, name, r)
	if errors.Is(err, builder.ErrPartRange) {
		return &exitError{exitInput, fmt.Errorf("%w; nothing written", err)}
	}
	if err != nil {
		return &exitError{exitIO, err}
	}
	js, err := json.Marshal(info)
	if err != nil {
		return &exitError{exitIO, err}
	}
	fmt.Fprintf(stdout, "%s\n", js)
	if !c.Bool("quiet") {
		fmt.Fprintf(stderr, "kvbuild part: wrote part %s: %d keys in %s, %d partitions; %s\n", name, info.Keys, info.Range, len(info.Partitions), filepath.Join(dir, name+builder.PartSuffix))
	}
	return nil
}

// partRange reads the range flags; idx is --range, or -1.
func partRange(c *cli.Context) (r builder.Range, idx int, err error) {
	idx = -1
	if c.IsSet("splits") != c.IsSet("range") {
		return r, idx, usageErr("--splits and --range go together")
	}
	if c.IsSet("splits") {
		if c.IsSet("lo") || c.IsSet("hi") {
			return r, idx, usageErr("give either --splits and --range or --lo and --hi")
		}
		splits, err := readSplits(c.String("splits"))
		if err != nil {
			return r, idx, err
		}
		idx = c.Int("range")
		if idx < 0 || idx > len(splits) {
			return r, idx, usageErr("--range %d: %s has %d split keys, so ranges 0 to %d", idx, c.String("splits"), len(splits), len(splits))
		}
		return builder.SplitRange(splits, idx), idx, nil
	}
	r.Lo = []byte{}
	if c.IsSet("lo") {
		lo, ok := escape.Unescape(nil, []byte(c.String("lo")))
		if !ok {
			return r, idx, usageErr("--lo: bad escape (only \\t \\n \\r \\\\)")
		}
		r.Lo = lo
	}
	if c.IsSet("hi") {
		hi, ok := escape.Unescape([]byte{}, []byte(c.String("hi")))
		if !ok {
			return r, idx, usageErr("--hi: bad escape (only \\t \\n \\r \\\\)")
		}
		if slices.Compare(r.Lo, hi) >= 0 {
			return r, idx, usageErr("--hi must be greater than --lo")
		}
		r.Hi = hi
	}
	return r, idx, nil
}
