package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const regexDescription = `Prints every pair whose whole key matches the regular expression EXPR,
in key order. The match is anchored at both ends, as if EXPR were written
^(?:EXPR)$: "user:.*" matches keys starting with "user:", ".*error.*"
keys containing "error". The syntax is Go's (RE2, see
https://pkg.go.dev/regexp/syntax) without ^, $, \b and the other
empty-width assertions, and without lazy quantifiers (.*?), which the
automaton cannot express. Quote EXPR for the shell.

The search walks the dictionary's automaton and skips whole key ranges
that cannot match, so a selective pattern with a literal prefix is fast;
".*x" must still visit every key.

Errors: "invalid regular expression: ..." (exit 2) when EXPR does not
parse, uses an unsupported feature, or needs an automaton of more than
10,000 states (for example .{1000}): simplify it or use a literal prefix.

Exit status: 0 (also when nothing matches), 2 usage or bad EXPR, 3 the
dictionary cannot be opened or is corrupt, 4 output error.`

func regexCommand() *cli.Command {
	return &cli.Command{
		Name:        "regex",
		Usage:       "print the pairs whose whole key matches a regular expression",
		ArgsUsage:   "DICT EXPR",
		Description: regexDescription,
		Flags:       append(outputFlags(), limitFlag(), keysOnlyFlag()),
		Action: listAction([]string{"DICT", "EXPR"}, func(c *cli.Context, p *printer, d *reader.Dict) (*reader.Iterator, error) {
			it, err := d.Regex(c.Args().Get(1))
			if err != nil {
				return nil, usageErrorf(c, "invalid regular expression: %v", err)
			}
			return it, nil
		}),
	}
}
