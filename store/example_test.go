package store_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/store"
)

// Example publishes two versions of a store, opens the current one by the
// store's stable name, and removes the old one.
func Example() {
	tmp, err := os.MkdirTemp("", "kvstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "colors")

	for _, blue := range []string{"#0000ff", "#0000fe"} {
		p, err := store.Begin(dir, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer p.Abort() // no-op after Publish
		if err := p.Add([]byte("blue"), []byte(blue)); err != nil {
			log.Fatal(err)
		}
		if _, err := p.Publish(); err != nil {
			log.Fatal(err)
		}
	}

	d, err := reader.Open(dir, nil) // the store's current version
	if err != nil {
		log.Fatal(err)
	}
	v, _ := d.Get([]byte("blue"))
	fmt.Printf("%s from %s\n", v, d.Version())
	d.Close() // GC skips versions open through the store

	res, err := store.GC(dir, &store.GCOptions{Keep: 0})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range res.Removed {
		fmt.Println("removed", v.Name)
	}
	// Output:
	// #0000fe from v000002.kvd
	// removed v000001.kvd
}
