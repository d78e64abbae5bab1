package builder_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/reader"
)

// Keys must arrive sorted in byte order and without duplicates; kvbuild
// sorts unsorted input first. Nothing appears at the path until Commit.
func Example() {
	dir, _ := os.MkdirTemp("", "kvdict-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "words.kvd")

	b, err := builder.Create(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Abort() // a no-op after Commit; cleans up on any early return
	for _, w := range []string{"apple", "banana", "cherry"} {
		if err := b.Add([]byte(w), []byte(fmt.Sprint(len(w)))); err != nil {
			log.Fatal(err)
		}
	}
	m, err := b.Commit()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Keys, "keys,", len(m.Partitions), "partition")

	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	v, _ := d.Get([]byte("banana"))
	fmt.Printf("banana: %s\n", v)
	// Output:
	// 3 keys, 1 partition
	// banana: 6
}

// Partitions are disjoint key ranges written concurrently, one goroutine
// each: this is how a build uses every core.
func ExampleBuilder_NewPartition() {
	dir, _ := os.MkdirTemp("", "kvdict-example")
	defer os.RemoveAll(dir)
	b, err := builder.Create(filepath.Join(dir, "d.kvd"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Abort()

	ranges := [][]string{{"a", "b"}, {"m", "n"}} // partition 0 < partition 1
	done := make(chan error)
	for _, keys := range ranges {
		p, err := b.NewPartition()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			for _, k := range keys {
				if err := p.Add([]byte(k), []byte("v")); err != nil {
					done <- err
					return
				}
			}
			done <- p.Close()
		}()
	}
	for range ranges {
		if err := <-done; err != nil {
			log.Fatal(err)
		}
	}
	m, err := b.Commit()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Keys, "keys in", len(m.Partitions), "partitions")
	// Output: 4 keys in 2 partitions
}
