package builder_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/testutil"
)

// BenchmarkJoin joins 64 parts of 200,000 keys in all, with full checksums
// and without: the cost of the metadata step of a distributed build.
func BenchmarkJoin(b *testing.B) {
	dir := b.TempDir()
	kvs := testutil.RandomKVs(200000, 3)
	parts := makePartsTB(b, dir, kvs, 64)
	for _, skip := range []bool{false, true} {
		b.Run(fmt.Sprintf("skip_checksums=%v", skip), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				out := filepath.Join(b.TempDir(), fmt.Sprintf("j%d.kvd", i))
				if _, err := builder.Join(out, parts, &builder.JoinOptions{SkipChecksums: skip}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
