//go:build !linux

package extsort

func allocBlock(n int) []byte { return make([]byte, n) }

func freeBlock([]byte) {}
