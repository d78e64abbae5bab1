package reader_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/store"
)

// ExampleHandle follows a store from one published version to the next
// without reopening anything by hand. A server would set
// HandleOptions.Poll (or call Reload on SIGHUP) instead.
func ExampleHandle() {
	tmp, err := os.MkdirTemp("", "kvhandle-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "prices")
	publish := func(price string) {
		p, err := store.Begin(dir, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer p.Abort()
		if err := p.Add([]byte("apple"), []byte(price)); err != nil {
			log.Fatal(err)
		}
		if _, err := p.Publish(); err != nil {
			log.Fatal(err)
		}
	}

	publish("1.20")
	h, err := reader.OpenHandle(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	v, _ := h.Get([]byte("apple")) // a copy: safe to keep across reloads
	fmt.Printf("%s from %s\n", v, h.Version())

	publish("1.25")
	if _, err := h.Reload(); err != nil {
		log.Fatal(err)
	}
	v, _ = h.Get([]byte("apple"))
	fmt.Printf("%s from %s\n", v, h.Version())

	// Several lookups that must see one version, zero-copy: View.
	h.View(func(d *reader.Dict) error {
		fmt.Println(d.Len(), "key in", d.Version())
		return nil
	})
	// Output:
	// 1.20 from v000001.kvd
	// 1.25 from v000002.kvd
	// 1 key in v000002.kvd
}
