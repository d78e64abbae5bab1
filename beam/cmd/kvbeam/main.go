// Command kvbeam builds one kvdict dictionary from key<TAB>value files
// with an Apache Beam pipeline (package kvdictbeam), on any Beam runner:
//
//	kvbeam --input 'data/*.tsv' --output urls.kvd --parts 16                       # Prism, in-process
//	kvbeam --input 'gs://b/in/*.tsv.gz' --output /mnt/shared/urls.kvd \
//	    --parts_dir /mnt/shared/urls.parts --parts 2000 \
//	    --runner dataflow --project P --region R --temp_location gs://b/tmp ...
//
// Beam's own flags (--runner, --endpoint, --environment_type,
// --job_name, --project, ...) are accepted beside kvbeam's; see
// beam/README.md for Dataflow, Flink and Spark. The runner defaults to
// prism (in-process; for tests and small inputs).
//
// Exit status: 0 written; 1 the pipeline failed (bad input: the error
// names the file and the byte offset of the line); 2 usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/kvdict/kvdict/beam/kvdictbeam"
)

// inputs is the repeatable --input flag.
type inputs []string

func (i *inputs) String() string     { return strings.Join(*i, ",") }
func (i *inputs) Set(s string) error { *i = append(*i, s); return nil }

func main() {
	var (
		o       kvdictbeam.Options
		in      inputs
		partMem = flag.Int64("part_memory", kvdictbeam.DefaultPartMemory, "memory budget in bytes of one part's sorter (a worker building several ranges at once uses it for each)")
	)
	flag.Var(&in, "input", "glob of key<TAB>value files (local, gs://, s3://); repeatable: files are ordered by glob, then by name")
	flag.StringVar(&o.Output, "output", "", "the dictionary directory to write (local or on a shared file system the last step's worker reaches)")
	flag.BoolVar(&o.Force, "force", false, "replace an existing dictionary at --output (atomically)")
	flag.IntVar(&o.Parts, "parts", kvdictbeam.DefaultParts, "number of key ranges, one part built per range; pick it so one range's rows fit a worker's memory")
	flag.StringVar(&o.PartsDir, "parts_dir", "", "where workers put the parts: a directory all workers and the join reach, or gs:// / s3:// (default OUTPUT.parts)")
	flag.BoolVar(&o.NoJoin, "no_join", false, "stop after the parts (one per range in --parts_dir): join them with kvbuild join where they are copied")
	flag.StringVar(&o.Duplicates, "duplicates", "last", "duplicate keys: last, first, error, sum, count or concat (as kvbuild; input order = glob order, then file names, then lines)")
	flag.StringVar(&o.Separator, "separator", ",", "separator for --duplicates concat (\\t \\n \\r \\\\ decoded)")
	flag.BoolVar(&o.Unescape, "unescape", false, "decode \\t \\n \\r \\\\ in keys and values")
	flag.BoolVar(&o.BareKeys, "bare_keys", false, "a line without a TAB is a key with an empty value")
	flag.BoolVar(&o.HashIndex, "hash_index", false, "build a hash index per partition (kvbuild --hash-index)")
	flag.StringVar(&o.TempDir, "tmp_dir", "", "worker-local directory for sorted runs and, with an object-store --parts_dir, for building a part before its upload (default $TMPDIR)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: kvbeam --input GLOB [--input GLOB]... --output DICT [flags] [Beam runner flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	beam.Init() // a worker binary started by a runner stops here and serves
	o.Inputs = in
	o.PartMemory = *partMem
	if len(o.Inputs) == 0 || (o.Output == "" && !o.NoJoin) || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}

	p, s := beam.NewPipelineWithRoot()
	if err := kvdictbeam.Build(s, o); err != nil {
		fmt.Fprintf(os.Stderr, "kvbeam: %v\n", err)
		os.Exit(2)
	}
	start := time.Now()
	res, err := beamx.RunWithMetrics(context.Background(), p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvbeam: %v\n", err)
		os.Exit(1)
	}
	summary := fmt.Sprintf("kvbeam: done in %.1fs", time.Since(start).Seconds())
	if res != nil {
		c := map[string]int64{}
		for _, r := range res.Metrics().AllMetrics().Counters() {
			if r.Namespace() == "kvdict" {
				c[r.Name()] += r.Result()
			}
		}
		summary += fmt.Sprintf(": %d rows read, %d bytes of rows shuffled, %d parts built", c[kvdictbeam.CounterRows], c[kvdictbeam.CounterShuffledBytes], c[kvdictbeam.CounterParts])
	}
	if o.NoJoin {
		summary += "; parts in " + o.PartsDir
	} else {
		summary += "; wrote " + o.Output
	}
	fmt.Fprintln(os.Stderr, summary)
}
