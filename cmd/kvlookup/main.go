// Command kvlookup queries a kvdict dictionary from the shell: point
// lookups (one key or millions from stdin), prefix/range/regex/fuzzy scans,
// counts, random samples, build information and a full integrity check.
//
// Run `kvlookup --help` for the commands, the output formats, the exit
// codes and every error message with what to do about it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
