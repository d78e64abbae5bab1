// Command kvlookup queries a kvdict dictionary from the shell: point
// lookups (one key or millions from stdin), prefix/range/regex/fuzzy scans,
// counts, random samples, build information and a full integrity check.
//
// Run `kvlookup --help` for the commands, the output formats, the exit
// codes and every error message with what to do about it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	// On SIGINT or SIGTERM, ctx is cancelled: scans stop, flush what they
	// printed and exit 130.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
		// A read of stdin from a terminal, or a long verify, does not
		// look at ctx: do not leave the user waiting.
		time.Sleep(time.Second)
		fmt.Fprintln(os.Stderr, "kvlookup: interrupted")
		os.Exit(exitInterrupted)
	}()
	os.Exit(run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr))
}
