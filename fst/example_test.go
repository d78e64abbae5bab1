package fst_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"

	"github.com/kvdict/kvdict/fst"
)

// mustExampleFST builds the FST the examples query.
func mustExampleFST() *fst.FST {
	var buf bytes.Buffer
	b, err := fst.NewBuilder(&buf, nil)
	if err != nil {
		log.Fatal(err)
	}
	for i, k := range []string{"cat", "cats", "catsup", "cow", "dog", "dot"} {
		if err := b.Add([]byte(k), uint64(100+i)); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := b.Close(); err != nil {
		log.Fatal(err)
	}
	f, err := fst.Load(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	return f
}

// Build an FST in memory, load it and look keys up.
func Example() {
	var buf bytes.Buffer // in kvdict, a file; later mmap'd for Load
	b, err := fst.NewBuilder(&buf, nil /* default options */)
	if err != nil {
		log.Fatal(err)
	}
	// Keys must be strictly increasing; values are arbitrary uint64s.
	b.Add([]byte("apple"), 4096)
	b.Add([]byte("banana"), 0)
	b.Add([]byte("cherry"), 17)
	// Errors are sticky, so the error of Close covers every Add above.
	// Make sure to check it.
	if _, err := b.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := fst.Load(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"apple", "banana", "durian"} {
		v, ok, err := f.Get([]byte(k))
		if err != nil {
			log.Fatal(err) // the file is damaged
		}
		fmt.Println(k, v, ok)
	}
	// Output:
	// apple 4096 true
	// banana 0 true
	// durian 0 false
}

// The builder refuses keys out of order and duplicates, naming both keys,
// and every later call returns the same error.
func ExampleBuilder() {
	var buf bytes.Buffer
	b, _ := fst.NewBuilder(&buf, nil)
	fmt.Println(b.Add([]byte("b"), 1))
	err := b.Add([]byte("a"), 2)
	fmt.Println(err)
	fmt.Println(errors.Is(err, fst.ErrOutOfOrder))
	_, err = b.Close()
	fmt.Println(err != nil, b.Len())
	// Output:
	// <nil>
	// fst: keys must be added in strictly increasing order: key #2 "a" sorts before key #1 "b"
	// true
	// true 1
}

// Registry settings trade build speed for size; see BuilderOptions.
func ExampleBuilderOptions() {
	var buf bytes.Buffer
	b, err := fst.NewBuilder(&buf, &fst.BuilderOptions{RegistryTableSize: -1 /* off: fastest build */})
	if err != nil {
		log.Fatal(err)
	}
	b.Add([]byte("key"), 1)
	footer, err := b.Close()
	fmt.Println(footer.Count, err)
	// Output:
	// 1 <nil>
}

func ExampleFST_Get() {
	f := mustExampleFST()
	v, ok, err := f.Get([]byte("cow"))
	fmt.Println(v, ok, err)
	v, ok, err = f.Get([]byte("co"))
	fmt.Println(v, ok, err)
	// Output:
	// 103 true <nil>
	// 0 false <nil>
}

// Range bounds are [from, to); nil means unbounded.
func ExampleFST_Range() {
	f := mustExampleFST()
	it := f.Range([]byte("cats"), []byte("dog"))
	defer it.Close()
	for it.Next() {
		fmt.Printf("%s=%d\n", it.Key(), it.Value())
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// cats=101
	// catsup=102
	// cow=103
}

func ExampleFST_Prefix() {
	f := mustExampleFST()
	it := f.Prefix([]byte("cat"))
	defer it.Close()
	for it.Next() {
		fmt.Printf("%s ", it.Key())
	}
	fmt.Println(it.Err())
	// Output:
	// cat cats catsup <nil>
}

// A regular expression must match the whole key.
func ExampleFST_Regex() {
	f := mustExampleFST()
	it, err := f.Regex("(c|d)o.")
	if err != nil {
		log.Fatal(err)
	}
	defer it.Close()
	for it.Next() {
		fmt.Printf("%s ", it.Key())
	}
	fmt.Println(it.Err())
	_, err = f.Regex("^cat")
	fmt.Println(err)
	// Output:
	// cow dog dot <nil>
	// fst: regex "^cat": zero width assertions not allowed
}

func ExampleFST_Fuzzy() {
	f := mustExampleFST()
	it, err := f.Fuzzy("cot", 1)
	if err != nil {
		log.Fatal(err)
	}
	defer it.Close()
	for it.Next() {
		fmt.Printf("%s ", it.Key())
	}
	fmt.Println(it.Err())
	// Output:
	// cat cow dot <nil>
}

// Verify reads the whole file: run it once when a dictionary is installed.
func ExampleFST_Verify() {
	f := mustExampleFST()
	fmt.Println(f.Len(), f.Verify())
	// Output:
	// 6 <nil>
}

// Keys alias the iterator's buffer: clone them to keep them.
func ExampleIterator() {
	f := mustExampleFST()
	var keys [][]byte
	it := f.Range(nil, nil)
	for it.Next() {
		keys = append(keys, bytes.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", keys)
	// Output:
	// [cat cats catsup cow dog dot]
}

// All adapts an Iterator to range-over-func; check Err after the loop.
func ExampleIterator_All() {
	f := mustExampleFST()
	it := f.Prefix([]byte("do"))
	for k, v := range it.All() {
		fmt.Printf("%s=%d\n", k, v)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// dog=104
	// dot=105
}

// Write the top file of an FST, load it, check it against the FST and
// make lookups start in it. Answers do not change; at millions of keys
// they come faster. Limit -1 copies every state with a transition, so
// that this small FST has a top at all (the default copies only states
// whose subtree spans more than 2 KiB).
func ExampleWriteTop() {
	f := mustExampleFST()
	var buf bytes.Buffer // in kvdict, part-NNNNN.top beside part-NNNNN.fst
	ft, err := fst.WriteTop(&buf, f, &fst.TopOptions{Limit: -1})
	if err != nil {
		log.Fatal(err)
	}
	top, err := fst.LoadTop(buf.Bytes()) // checks the whole CRC
	if err != nil {
		log.Fatal(err)
	}
	if err := top.Verify(f); err != nil { // node by node against f
		log.Fatal(err)
	}
	if err := f.SetTop(top); err != nil { // refuses another FST's top
		log.Fatal(err)
	}
	fmt.Println("nodes:", ft.Count)
	for _, k := range []string{"catsup", "cats", "co", "dot"} {
		v, ok, err := f.Get([]byte(k))
		fmt.Println(k, v, ok, err)
	}
	// Output:
	// nodes: 9
	// catsup 102 true <nil>
	// cats 101 true <nil>
	// co 0 false <nil>
	// dot 105 true <nil>
}
