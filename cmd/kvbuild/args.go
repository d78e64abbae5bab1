package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/internal/cliargs"
)

// interspersed lets flags come after the inputs, as in
// `kvbuild -o DICT in.tsv --quiet` (see [cliargs.Reorder]).
func interspersed(flags []cli.Flag, args []string) []string {
	if len(args) < 2 {
		return args
	}
	return append(args[:1:1], cliargs.Reorder(flags, args[1:])...)
}

// onUsageError turns a flag parse error into a usage error (exit 2): one
// line and a pointer to --help on stderr, never the whole help on stdout.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return &exitError{exitUsage, err}
}
