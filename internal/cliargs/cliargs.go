// Package cliargs lets the kvdict CLIs accept flags anywhere on the command
// line. urfave/cli v2 parses with package flag, which stops at the first
// positional argument; Reorder moves the flags in front of the positional
// arguments first, keeping their order and values.
package cliargs

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Reorder returns args (flags and positional arguments, without the
// program or command name) with every flag, and the value of a flag that
// takes one, moved in front of the positional arguments. "--" ends the
// flags: what follows it stays positional, so arguments that start with
// "-" can still be passed. "-" alone is positional (stdin). A flag that
// needs a value but comes last is returned without the positional
// arguments, so the parser reports the missing value instead of taking a
// positional argument for it.
func Reorder(flags []cli.Flag, args []string) []string {
	var out, pos []string
	dashdash := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			dashdash = true
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case IsFlag(a):
			out = append(out, a)
			if TakesValue(flags, a) {
				if i+1 == len(args) {
					return out
				}
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

// IsFlag reports whether a looks like a flag ("-x", "--name", "--name=v"),
// as opposed to "-" (stdin) or "--" (the end of the flags).
func IsFlag(a string) bool { return len(a) > 1 && a[0] == '-' && a != "--" }

// TakesValue reports whether arg names one of flags that needs a value in
// the next argument (it is not a bool flag and has no "=value").
func TakesValue(flags []cli.Flag, arg string) bool {
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
