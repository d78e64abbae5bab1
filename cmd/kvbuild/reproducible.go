package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/kvdict/kvdict/builder"
)

// sourceDateEpoch applies the reproducible-builds convention
// (https://reproducible-builds.org/specs/source-date-epoch/): when
// SOURCE_DATE_EPOCH is set, the manifest records that time instead of now,
// and the hash index's seed is derived from it instead of drawn at random.
// Everything else in a dictionary already depends only on the input and
// the flags (partition boundaries, value deduplication), so two builds of
// the same input with the same flags, kvbuild version and
// SOURCE_DATE_EPOCH are byte for byte identical, builds that train a zstd
// dictionary (--compression zstd) included: the sample depends on the
// input's bytes and the trainer's ties on its own tables (zrec.Trainer.Train;
// TestRun_SourceDateEpochZstd).
func sourceDateEpoch(o *builder.Options) error {
	s, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || s == "" {
		return nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return usageErr("SOURCE_DATE_EPOCH=%q: want a count of seconds since 1970", s)
	}
	t := time.Unix(sec, 0).UTC()
	o.Now = func() time.Time { return t }
	if o.HashIndex != nil && o.HashIndex.Seed == 0 {
		o.HashIndex.Seed = max(xxh3.HashString(fmt.Sprintf("kvdict hash-index seed %d", sec)), 1)
	}
	return nil
}
