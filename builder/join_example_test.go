package builder_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
)

// Two machines each build one key range as a part; the parts, copied into
// one directory, are joined into one dictionary.
func ExampleJoin() {
	dir, _ := os.MkdirTemp("", "kvdict-join")
	defer os.RemoveAll(dir)
	splits := [][]byte{[]byte("m")} // from builder.SplitKeys over a sample
	ranges := [][]string{{"apple", "kiwi"}, {"pear", "zucchini"}}
	var parts []*builder.PartInfo
	for i, keys := range ranges {
		scratch := filepath.Join(dir, fmt.Sprintf(".build-%d", i))
		b, err := builder.Create(scratch, nil)
		if err != nil {
			log.Fatal(err)
		}
		for _, k := range keys { // sorted; unsorted rows go through a Sorter
			b.Add([]byte(k), []byte("fruit"))
		}
		if _, err := b.Commit(); err != nil {
			log.Fatal(err)
		}
		// The name must be unique per attempt of the task.
		p, err := builder.MakePart(scratch, dir, fmt.Sprintf("part-%05d-attempt1", i), builder.SplitRange(splits, i))
		if err != nil {
			log.Fatal(err)
		}
		parts = append(parts, p)
	}
	m, err := builder.Join(filepath.Join(dir, "fruit.kvd"), parts, &builder.JoinOptions{Move: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Keys, "keys in", len(m.Partitions), "partitions")
	// Output: 4 keys in 2 partitions
}
