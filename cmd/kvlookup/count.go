package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const countDescription = `Prints the number of keys in the dictionary, or with --prefix the number
of keys that start with P. The total comes from the MANIFEST and is
instant; a prefix count walks the matching keys and never reads a value.
With --format json it prints {"count":N}.

Exit status: 0, 2 usage, 3 the dictionary cannot be opened or is corrupt.`

func countCommand() *cli.Command {
	return &cli.Command{
		Name:        "count",
		Usage:       "print the number of keys, or of keys with a prefix",
		ArgsUsage:   "DICT [--prefix P]",
		Description: countDescription,
		Flags: append(outputFlags(),
			&cli.StringFlag{Name: "prefix", Aliases: []string{"p"}, Usage: "count only keys that start with `P`"},
		),
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, "DICT"); err != nil {
				return err
			}
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			d, err := openDict(c)
			if err != nil {
				return err
			}
			defer d.Close()
			n := d.Len()
			if c.IsSet("prefix") {
				if n, err = countPrefix(c, d, p.keyArg(c.String("prefix"))); err != nil {
					return err
				}
			}
			if p.format == formatJSON {
				err = p.line(`{"count":%d}`, n)
			} else {
				err = p.line("%d", n)
			}
			if err == nil {
				err = p.flush()
			}
			if err != nil {
				return ioError(c, "writing output", err)
			}
			return nil
		},
	}
}

// countPrefix counts the keys that start with prefix.
func countPrefix(c *cli.Context, d *reader.Dict, prefix []byte) (n int, err error) {
	it := d.Prefix(prefix)
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			err = dictError(c, c.Args().First(), cerr)
		}
	}()
	for it.Next() {
		n++
		if n%checkInterval == 0 && c.Context.Err() != nil {
			return n, c.Context.Err()
		}
	}
	if err := it.Err(); err != nil {
		return n, dictError(c, c.Args().First(), err)
	}
	return n, nil
}
