package delta_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/delta"
	"github.com/kvdict/kvdict/reader"
)

// Example adds a day of word counts to a dictionary of counts, and removes
// a word, without the input the old counts came from.
func Example() {
	tmp, err := os.MkdirTemp("", "kvdelta-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	build := func(path string, words []string, base *delta.Base) {
		s, err := builder.NewSorter(path, &builder.SortOptions{Duplicates: builder.Count, TempDir: tmp})
		if err != nil {
			log.Fatal(err)
		}
		defer s.Abort() // no-op after Commit
		if base != nil {
			if err := s.AddSorted(base, 0); err != nil { // 0: older than every Add
				log.Fatal(err)
			}
		}
		for _, w := range words {
			if err := s.Add([]byte(w), nil); err != nil {
				log.Fatal(err)
			}
		}
		if err := s.Commit(); err != nil {
			log.Fatal(err)
		}
	}
	monday := filepath.Join(tmp, "monday.kvd")
	build(monday, []string{"apple", "pear", "apple", "fig"}, nil)

	old, err := reader.Open(monday, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer old.Close()
	del, err := delta.NewDeletes(tmp, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer del.Close()
	if err := delta.ReadDeletes(del, strings.NewReader("fig\n"), "deletes.txt", false); err != nil {
		log.Fatal(err)
	}
	if err := del.Finish(); err != nil {
		log.Fatal(err)
	}
	tuesday := filepath.Join(tmp, "tuesday.kvd")
	build(tuesday, []string{"pear", "apple", "kiwi"}, delta.NewBase(old, del))

	d, err := reader.Open(tuesday, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	for k, v := range d.All().All() {
		fmt.Printf("%s %s\n", k, v)
	}
	// Output:
	// apple 3
	// kiwi 1
	// pear 2
}
