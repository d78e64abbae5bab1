package valuelog_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/kvdict/kvdict/valuelog"
)

// Write three values, one of them twice: the repeat shares a record.
func ExampleWriter() {
	var buf bytes.Buffer // usually an *os.File; the Writer never closes it
	w, err := valuelog.NewWriter(&buf, nil /* default dedup */)
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range []string{"red", "green", "red", ""} {
		off, err := w.Append([]byte(v))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q at offset %d\n", v, off)
	}
	footer, err := w.Close()
	if err != nil {
		log.Fatal(err)
	}
	st := w.Stats()
	fmt.Printf("%d appends, %d records, %d dedup hits, %d bytes\n", st.Appends, footer.Count, st.DedupHits, buf.Len())
	// Output:
	// "red" at offset 16
	// "green" at offset 20
	// "red" at offset 16
	// "" at offset 26
	// 4 appends, 3 records, 1 dedup hits, 59 bytes
}

// Load a value log (usually an mmap'd file) and read a value by offset.
func ExampleLog_Value() {
	var buf bytes.Buffer
	w, _ := valuelog.NewWriter(&buf, nil)
	off, _ := w.Append([]byte("hello, world"))
	w.Close()

	l, err := valuelog.Load(buf.Bytes()) // O(1): checks header and footer only
	if err != nil {
		log.Fatal(err)
	}
	v, err := l.Value(off) // aliases the loaded bytes; do not modify
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", v)

	_, err = l.Value(off + 1000) // not inside the body
	fmt.Println(err)
	// Output:
	// hello, world
	// valuelog: record at offset 1016: offset outside the body [16, 29): kvdict: corrupt dictionary file
}

// Walk every record in file order.
func ExampleLog_All() {
	var buf bytes.Buffer
	w, _ := valuelog.NewWriter(&buf, nil)
	for _, v := range []string{"a", "bb", "a"} {
		w.Append([]byte(v))
	}
	w.Close()
	l, _ := valuelog.Load(buf.Bytes())
	if err := l.Verify(); err != nil { // reads the whole file
		log.Fatal(err)
	}
	for off, v := range l.All() {
		fmt.Printf("%d: %s\n", off, v)
	}
	// Output:
	// 16: a
	// 18: bb
}
