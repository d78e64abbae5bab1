package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is the pipe buffer batch mode asks for on its stdin: with
// Linux's default 64 KiB, the process writing the keys blocks after every
// 64 KiB until kvlookup reads them, and the two take turns; 1 MiB
// (/proc/sys/fs/pipe-max-size, the most an unprivileged process may set)
// lets it write ahead.
const pipeSize = 1 << 20

// growPipe enlarges the buffer of r's pipe, if r is a pipe; failing that,
// it changes nothing (the pipe works as before, only slower).
func growPipe(r io.Reader) {
	f, ok := r.(*os.File)
	if !ok {
		return
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	if n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0); err == nil && n < pipeSize {
		unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, pipeSize)
	}
}
