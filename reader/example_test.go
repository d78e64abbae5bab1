package reader_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/reader"
)

// exampleDict builds a small dictionary for the examples, as kvbuild would.
func exampleDict() string {
	dir, err := os.MkdirTemp("", "kvdict-example")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "pypi.kvd")
	b, err := builder.Create(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Abort()
	for _, kv := range [][2]string{
		{"flask", "3.1.2\tA simple framework for building complex web applications."},
		{"numpy", "2.5.5\tFundamental package for array computing in Python"},
		{"requests", "2.34.2\tPython HTTP for Humans."},
		{"requests-oauthlib", "2.0.0\tOAuthlib authentication support for Requests."},
		{"requests-toolbelt", "1.0.0\tA utility belt for advanced users of python-requests"},
	} {
		if err := b.Add([]byte(kv[0]), []byte(kv[1])); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := b.Commit(); err != nil {
		log.Fatal(err)
	}
	return path
}

// A worker process opens the dictionary once and queries it. Every process
// that opens the same path shares one page-cached copy.
func Example() {
	path := exampleDict()
	defer os.RemoveAll(filepath.Dir(path))

	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	for _, name := range []string{"requests", "leftpad"} {
		v, err := d.Get([]byte(name))
		switch {
		case errors.Is(err, reader.ErrNotFound):
			fmt.Printf("%s: not found\n", name)
		case err != nil:
			log.Fatal(err) // a damaged dictionary: see Dict.Verify
		default:
			fmt.Printf("%s: %s\n", name, v)
		}
	}
	fmt.Println(d.Len(), "keys")
	// Output:
	// requests: 2.34.2	Python HTTP for Humans.
	// leftpad: not found
	// 5 keys
}

// Prefix scans return keys in byte order; Value reads only what is asked for.
func ExampleDict_Prefix() {
	path := exampleDict()
	defer os.RemoveAll(filepath.Dir(path))
	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	it := d.Prefix([]byte("requests-"))
	defer it.Close()
	for it.Next() {
		fmt.Printf("%s\n", it.Key())
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// requests-oauthlib
	// requests-toolbelt
}

// Iterators also work with range-over-func; check Err after the loop.
func ExampleIterator_All() {
	path := exampleDict()
	defer os.RemoveAll(filepath.Dir(path))
	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	it := d.Range([]byte("f"), []byte("o"))
	for k, v := range it.All() {
		fmt.Printf("%s => %.5s\n", k, v)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// flask => 3.1.2
	// numpy => 2.5.5
}

// Get's slice aliases the mapped file and dies with Close; GetCopy's does not.
func ExampleDict_GetCopy() {
	path := exampleDict()
	defer os.RemoveAll(filepath.Dir(path))
	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	v, err := d.GetCopy([]byte("numpy"))
	if err != nil {
		log.Fatal(err)
	}
	d.Close()
	fmt.Printf("%.5s\n", v) // still valid
	// Output: 2.5.5
}

// Verify reads everything and checks every checksum: run it once when a
// dictionary is installed on a machine.
func ExampleDict_Verify() {
	path := exampleDict()
	defer os.RemoveAll(filepath.Dir(path))
	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	if err := d.Verify(); err != nil {
		fmt.Println("damaged:", err)
		return
	}
	fmt.Println("ok")
	// Output: ok
}
