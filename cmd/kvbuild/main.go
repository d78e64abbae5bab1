// Command kvbuild compiles unsorted key<TAB>value lines into a kvdict
// dictionary. Run `kvbuild --help` for the input rules, the duplicate
// policies and every error it can report.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
