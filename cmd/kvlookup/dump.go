package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const dumpDescription = `Prints every pair of the dictionary in key order (raw byte order), as
"key<TAB>value" lines or JSON lines. "kvlookup dump --escape DICT" is valid
input for "kvbuild --unescape", which rebuilds the same dictionary; without
--escape, a TAB or newline inside a key or value makes the output ambiguous.

Exit status: 0, 2 usage, 3 the dictionary cannot be opened or is corrupt
(dump stops at the first damaged record), 4 output error.`

func dumpCommand() *cli.Command {
	return &cli.Command{
		Name:        "dump",
		Usage:       "print all pairs in key order",
		ArgsUsage:   "DICT",
		Description: dumpDescription,
		Flags:       append(outputFlags(), limitFlag(), keysOnlyFlag()),
		Action: listAction([]string{"DICT"}, func(c *cli.Context, p *printer, d *reader.Dict) (*reader.Iterator, error) {
			return d.All(), nil
		}),
	}
}
