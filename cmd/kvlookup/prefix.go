package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const prefixDescription = `Prints every pair whose key starts with PREFIX, in key order, as
"key<TAB>value" lines (or JSON lines with --format json). An empty PREFIX
("") matches every key. PREFIX is raw bytes; with --escape, \t \n \r \\ in
it are unescaped first. Use --limit to stop after N pairs, and -- before a
PREFIX that starts with "-".

Exit status: 0 (also when nothing matches), 2 usage, 3 the dictionary
cannot be opened or is corrupt, 4 output error.`

func prefixCommand() *cli.Command {
	return &cli.Command{
		Name:        "prefix",
		Usage:       "print the pairs whose key starts with PREFIX",
		ArgsUsage:   "DICT PREFIX",
		Description: prefixDescription,
		Flags:       append(outputFlags(), limitFlag(), keysOnlyFlag()),
		Action: listAction([]string{"DICT", "PREFIX"}, func(c *cli.Context, p *printer, d *reader.Dict) (*reader.Iterator, error) {
			return d.Prefix(p.keyArg(c.Args().Get(1))), nil
		}),
	}
}
