//go:build !linux

package builder

func allocBlock(n int) []byte { return make([]byte, n) }

func freeBlock([]byte) {}
