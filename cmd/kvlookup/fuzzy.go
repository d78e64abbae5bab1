package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const fuzzyDescription = `Prints every pair whose key is within Levenshtein distance N of TERM
(insertions, deletions and substitutions of one character each), in key
order, exactly. Distances count Unicode characters: TERM is UTF-8, and in
a key that is not valid UTF-8 each invalid byte counts as one character.
--distance defaults to 1; 0 is an exact match; 2 is the largest distance
accepted, and it already visits a good part of a large dictionary.

Errors: "invalid fuzzy search: ..." (exit 2) when N is out of range or
TERM is longer than 1024 bytes.

Exit status: 0 (also when nothing matches), 2 usage, 3 the dictionary
cannot be opened or is corrupt, 4 output error.`

func fuzzyCommand() *cli.Command {
	return &cli.Command{
		Name:        "fuzzy",
		Usage:       "print the pairs whose key is within edit distance N of TERM",
		ArgsUsage:   "DICT TERM [--distance N]",
		Description: fuzzyDescription,
		Flags: append(outputFlags(), limitFlag(), keysOnlyFlag(),
			&cli.IntFlag{Name: "distance", Aliases: []string{"d"}, Value: 1, Usage: "maximum Levenshtein distance `N`"},
		),
		Action: listAction([]string{"DICT", "TERM"}, func(c *cli.Context, p *printer, d *reader.Dict) (*reader.Iterator, error) {
			if n := c.Int("distance"); n < 0 {
				return nil, usageErrorf(c, "invalid fuzzy search: --distance must not be negative, got %d", n)
			}
			it, err := d.Fuzzy(c.Args().Get(1), c.Int("distance"))
			if err != nil {
				return nil, usageErrorf(c, "invalid fuzzy search: %v", err)
			}
			return it, nil
		}),
	}
}
