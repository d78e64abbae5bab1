package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const rangeDescription = `Prints every pair with FROM <= key < TO, in key order: --from is
inclusive, --to exclusive, as in Go slices. Either may be left out to leave
that end open; with neither, range prints the whole dictionary like dump.
Keys compare as raw bytes (so "B" < "a" and "a" < "ab"); with --escape,
\t \n \r \\ in FROM and TO are unescaped first. A range with FROM >= TO is
empty.

Exit status: 0 (also when the range is empty), 2 usage, 3 the dictionary
cannot be opened or is corrupt, 4 output error.`

func rangeCommand() *cli.Command {
	return &cli.Command{
		Name:        "range",
		Usage:       "print the pairs with FROM <= key < TO",
		ArgsUsage:   "DICT [--from FROM] [--to TO]",
		Description: rangeDescription,
		Flags: append(outputFlags(), limitFlag(), keysOnlyFlag(),
			&cli.StringFlag{Name: "from", Usage: "first key of the range, inclusive (default: the first key)"},
			&cli.StringFlag{Name: "to", Usage: "end of the range, exclusive (default: past the last key)"},
		),
		Action: listAction([]string{"DICT"}, func(c *cli.Context, p *printer, d *reader.Dict) (*reader.Iterator, error) {
			var from, to []byte // nil: unbounded
			if c.IsSet("from") {
				from = p.keyArg(c.String("from"))
			}
			if c.IsSet("to") {
				to = p.keyArg(c.String("to"))
			}
			return d.Range(from, to), nil
		}),
	}
}
