package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed lets flags come after the inputs, as in
// `kvbuild -o DICT in.tsv --quiet`: urfave/cli v2 parses with package
// flag, which stops at the first positional argument, so the flags are
// moved in front of the inputs (keeping their order and values). "--" ends
// the flags: inputs named like a flag come after it. "-" (stdin) is an
// input.
func interspersed(flags []cli.Flag, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	var pos []string
	dashdash := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			dashdash = true
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case isFlag(a):
			out = append(out, a)
			if takesValue(flags, a) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		default:
			pos = append(pos, a)
		}
	}
	if dashdash {
		out = append(out, "--")
	}
	return append(out, pos...)
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' && a != "--" }

// takesValue reports whether arg names one of flags that needs a value in
// the next argument (it is not a bool flag and has no "=value").
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

// onUsageError turns a flag parse error into a usage error (exit 2): one
// line and a pointer to --help on stderr, never the whole help on stdout.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return &exitError{exitUsage, err}
}
