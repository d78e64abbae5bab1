package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/version"
)

const joinDescription = `kvbuild join makes one dictionary at DICT from parts written by 'kvbuild
part' (on any machines, then copied into one place). PART is a part's
NAME.part.json, or a directory: every *.part.json in it. A part's data files
are looked for beside its .part.json.

It refuses, writing nothing (exit 1), parts whose declared ranges overlap
(two attempts of one range: pass one), leave a gap (a range missing), or
disagree on format features or build options (--duplicates, --unescape,
--hash-index ...; memory, threads and registry sizes may differ); and data
files whose size, footer or CRC-32C checksum does not match their part
(every file is read in full unless --skip-checksums).

The data files are hard-linked into DICT, renumbered part-NNNNN.*, never
copied or rewritten: the parts must be on DICT's file system. The MANIFEST
is written last and DICT appears atomically, as with a normal build
(--force replaces a dictionary the same way). --move removes the parts
afterwards.

EXIT STATUS: 0 written; 1 the parts do not make one dictionary (overlap,
gap, mismatch, bad checksum, not a part); 2 usage, DICT exists without
--force; 3 I/O (a file cannot be read or linked, disk full); 130
interrupted by Ctrl-C, SIGTERM or SIGHUP while checking (nothing written).`

func newJoinApp(_ io.Reader, _, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:        "kvbuild join",
		Usage:       "join parts built by kvbuild part into one dictionary",
		UsageText:   "kvbuild join -o DICT [--force] [--move] PART.part.json|DIR...",
		Description: joinDescription,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the dictionary directory `DICT`", Required: true},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing dictionary at DICT (atomically)"},
			&cli.BoolFlag{Name: "move", Usage: "remove the parts' files once DICT is written"},
			&cli.BoolFlag{Name: "skip-checksums", Usage: "check sizes and footers only, without reading every file in full"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary"},
		},
		Action: func(c *cli.Context) error {
			start := time.Now()
			if c.NArg() == 0 {
				return usageErr("no PART given")
			}
			var parts []*builder.PartInfo
			for _, a := range c.Args().Slice() {
				ps, err := readParts(a)
				if err != nil {
					return err
				}
				parts = append(parts, ps...)
			}
			out := c.String("output")
			// A join killed outright leaves its temporary directory beside
			// DICT; remove those of dead processes, as a build does.
			removeLeftovers(stderr, c.Bool("quiet"), leftoverDirs(out, filepath.Dir(filepath.Clean(out)), false)...)
			m, err := builder.Join(out, parts, &builder.JoinOptions{
				Force: c.Bool("force"), Move: c.Bool("move"), SkipChecksums: c.Bool("skip-checksums"),
				Tool: "kvbuild join " + version.Version, Context: c.Context,
			})
			switch {
			case err == nil:
			case c.Context.Err() != nil && errors.Is(err, context.Canceled):
				return &exitError{exitInterrupted, errors.New("interrupted: nothing written")}
			case errors.Is(err, builder.ErrJoin) || errors.Is(err, frame.ErrCorrupt):
				return &exitError{exitInput, fmt.Errorf("%w; nothing written", err)}
			case errors.Is(err, builder.ErrExists) || errors.Is(err, builder.ErrNotDict):
				return &exitError{exitUsage, err}
			case m != nil: // joined; removing the parts failed
				return &exitError{exitIO, err}
			default:
				return &exitError{exitIO, fmt.Errorf("%w; nothing written", err)}
			}
			if !c.Bool("quiet") {
				fmt.Fprintf(stderr, "kvbuild join: wrote %s: %d keys from %d parts, %d partitions, in %.1fs\n", out, m.Keys, len(parts), len(m.Partitions), time.Since(start).Seconds())
			}
			return nil
		},
	}
}

// readParts reads one PART argument: a description, or a directory of them.
func readParts(arg string) ([]*builder.PartInfo, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return nil, &exitError{exitIO, err}
	}
	names := []string{arg}
	if st.IsDir() {
		ents, err := os.ReadDir(arg)
		if err != nil {
			return nil, &exitError{exitIO, err}
		}
		names = names[:0]
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), builder.PartSuffix) && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, filepath.Join(arg, e.Name()))
			}
		}
		if len(names) == 0 {
			return nil, usageErr("%s holds no *%s", arg, builder.PartSuffix)
		}
	}
	var parts []*builder.PartInfo
	for _, n := range names {
		p, err := builder.ReadPart(n)
		if errors.Is(err, builder.ErrJoin) {
			return nil, &exitError{exitInput, fmt.Errorf("%w; nothing written", err)}
		}
		if err != nil {
			return nil, &exitError{exitIO, err}
		}
		parts = append(parts, p)
	}
	return parts, nil
}
