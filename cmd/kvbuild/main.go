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
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals()...)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stopSignals are the signals that interrupt a build cleanly (temporary
// files removed, DICT untouched): Ctrl-C, SIGTERM and SIGHUP (the terminal
// closed). SIGHUP is left alone when it is ignored at start, as under
// nohup: catching it would undo nohup.
func stopSignals() []os.Signal {
	s := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		s = append(s, syscall.SIGHUP)
	}
	return s
}
