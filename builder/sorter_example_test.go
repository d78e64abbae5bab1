package builder_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/reader"
)

// A Sorter takes records in any order, with duplicates: it sorts them in
// bounded memory (spilling to disk when they do not fit) and applies the
// duplicate policy. Nothing appears at the path until Commit.
func ExampleSorter() {
	dir, _ := os.MkdirTemp("", "kvdict-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "fruit.kvd")

	s, err := builder.NewSorter(path, &builder.SortOptions{
		Duplicates: builder.Sum,
		Memory:     256 << 20,
		TempDir:    dir, // run files, if the records do not fit in Memory
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Abort() // a no-op after Commit; cleans up on any early return
	for _, r := range [][2]string{{"pear", "3"}, {"apple", "1"}, {"pear", "4"}, {"fig", "2"}} {
		if err := s.Add([]byte(r[0]), []byte(r[1])); err != nil {
			log.Fatal(err)
		}
	}
	if err := s.Commit(); err != nil {
		log.Fatal(err)
	}
	st := s.Stats()
	fmt.Println(st.Keys, "keys from", st.Records, "records")

	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	v, _ := d.Get([]byte("pear"))
	fmt.Printf("pear: %s\n", v)
	// Output:
	// 3 keys from 4 records
	// pear: 7
}

// Parallel producers each take a SortWriter and number their records: the
// sequence number is the record's place in input order, which decides
// "first" and "last" and names the record in errors.
func ExampleSortWriter() {
	dir, _ := os.MkdirTemp("", "kvdict-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "d.kvd")
	s, err := builder.NewSorter(path, &builder.SortOptions{Duplicates: builder.KeepFirst, TempDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Abort()

	input := []string{"b", "a", "b", "c", "a"} // input order: 1, 2, 3, ...
	var wg sync.WaitGroup
	for g := range 2 {
		w, err := s.NewWriter()
		if err != nil {
			log.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(input); i += 2 {
				seq := uint64(i + 1)
				if err := w.Add(seq, []byte(input[i]), fmt.Appendf(nil, "line %d", seq)); err != nil {
					log.Print(err)
					return
				}
			}
			w.Close()
		}()
	}
	wg.Wait()
	if err := s.Commit(); err != nil {
		log.Fatal(err)
	}
	d, err := reader.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	for k, v := range d.All().All() {
		fmt.Printf("%s: %s\n", k, v)
	}
	// Output:
	// a: line 2
	// b: line 1
	// c: line 4
}
