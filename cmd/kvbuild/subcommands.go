package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// Subcommands for building one dictionary across machines (see
// docs/DESIGN.md, "Building across machines"): `kvbuild splits`,
// `kvbuild part` and `kvbuild join`.
//
// They are dispatched on the first argument, before the root command's
// flags are parsed, and never by urfave/cli's own command lookup: that
// lookup runs after the flags, so `kvbuild -o DICT part` would run the
// part command instead of reading an INPUT file named "part". Only a
// first argument of exactly "splits", "part" or "join" is a subcommand;
// `kvbuild -o DICT part` and `kvbuild ./part -o DICT` still read a file of
// that name.
var subcommands = map[string]func(stdin io.Reader, stdout, stderr io.Writer) *cli.App{
	"splits": newSplitsApp,
	"part":   newPartApp,
	"join":   newJoinApp,
}

// runSubcommand runs args[1] as a subcommand if it names one.
func runSubcommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) < 2 || subcommands[args[1]] == nil {
		return 0, false
	}
	app := subcommands[args[1]](stdin, stdout, stderr)
	app.HideHelpCommand = true
	app.Writer, app.ErrWriter = stdout, stderr
	app.ExitErrHandler = func(*cli.Context, error) {}
	app.OnUsageError = onUsageError
	sub := append([]string{args[0] + " " + args[1]}, args[2:]...)
	err := app.RunContext(ctx, interspersed(app.Flags, sub))
	if err == nil {
		return exitOK, true
	}
	code = exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
	if code == exitUsage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", app.Name)
	}
	return code, true
}
