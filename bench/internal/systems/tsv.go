package systems

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
)

// ReadTSV calls fn for each key<TAB>value line of name: key = the bytes
// before the first TAB, value = the rest (later TABs kept), without the
// trailing "\n" or "\r\n". Empty lines are skipped; a line without a TAB is
// a key with an empty value. key and value are valid only during the call.
func ReadTSV(name string, fn func(key, value []byte) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var long []byte
	lineNo := 0
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			lineNo++
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) > 0 {
				k, v, _ := bytes.Cut(line, []byte("\t"))
				if ferr := fn(k, v); ferr != nil {
					return fmt.Errorf("%s:%d: %w", name, lineNo, ferr)
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
