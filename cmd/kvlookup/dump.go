package main

import "github.com/urfave/cli/v2"

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
		Flags:       append(outputFlags(), limitFlag()),
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, "DICT"); err != nil {
				return err
			}
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			limit, err := getLimit(c)
			if err != nil {
				return err
			}
			d, err := openDict(c)
			if err != nil {
				return err
			}
			defer d.Close()
			return drain(c, d.All(), p, limit)
		},
	}
}
