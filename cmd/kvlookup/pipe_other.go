//go:build !linux

package main

import "io"

// growPipe does nothing: only Linux lets a reader enlarge a pipe's buffer.
func growPipe(r io.Reader) {}
