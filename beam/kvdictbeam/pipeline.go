package kvdictbeam

import (
	"context"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Counters of a build, in the pipeline's metrics (namespace "kvdict").
var (
	rowsRead   = beam.NewCounter("kvdict", "rows")
	shuffled   = beam.NewCounter("kvdict", "shuffled_bytes")
	partsBuilt = beam.NewCounter("kvdict", "parts")
)

// Counter names, for reading a run's metrics.
const (
	CounterRows          = "rows"           // rows read from the inputs
	CounterShuffledBytes = "shuffled_bytes" // encoded rows sent to the range GroupByKey
	CounterParts         = "parts"          // parts built from rows (retries included)
)

func init() {
	beam.RegisterType(reflect.TypeOf((*FileRef)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Splits)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Sample)(nil)).Elem())

	register.DoFn3x1[context.Context, []byte, func(FileRef), error](&listFn{})
	register.Emitter1[FileRef]()
	register.DoFn4x1[context.Context, *sdf.LockRTracker, FileRef, func([]byte), error](&readFn{})
	register.Emitter1[[]byte]()
	register.Combiner3[Sample, []byte, Splits](&splitsFn{})
	register.DoFn4x1[context.Context, []byte, Splits, func(int, []byte), error](&routeFn{})
	register.Emitter2[int, []byte]()
	register.DoFn5x2[context.Context, int, func(*[]byte) bool, Splits, func(*FileRef) bool, string, error](&partFn{})
	register.Iter1[[]byte]()
	register.Iter1[FileRef]()
	register.Iter1[string]()
	register.Iter1[Splits]()
	register.DoFn4x1[context.Context, []byte, func(*string) bool, func(*Splits) bool, error](&finishFn{})
}

// Build adds a dictionary build to the pipeline of s: read opts.Inputs,
// sample split keys, route rows to key ranges, build one part per range
// on the workers, and join the parts into opts.Output. It fails only on
// invalid options; errors in the data fail the pipeline when it runs
// (naming the file and the byte offset of the line), and leave no
// dictionary at Output.
func Build(s beam.Scope, opts Options) error {
	o, err := opts.resolved()
	if err != nil {
		return err
	}
	s = s.Scope("kvdict.Build")
	files := beam.ParDo(s, &listFn{Globs: o.Inputs}, beam.Impulse(s))
	rows := beam.ParDo(s, &readFn{Unescape: o.Unescape, BareKeys: o.BareKeys, BlockSize: o.blockSize}, beam.Reshuffle(s, files))
	splits := beam.Combine(s, &splitsFn{Parts: o.Parts, K: sampleSize(o.Parts)}, rows)
	routed := beam.ParDo(s, &routeFn{}, rows, beam.SideInput{Input: splits})
	infos := beam.ParDo(s, &partFn{O: o}, beam.GroupByKey(s, routed),
		beam.SideInput{Input: splits}, beam.SideInput{Input: files})
	beam.ParDo0(s, &finishFn{O: o}, beam.Impulse(s),
		beam.SideInput{Input: infos}, beam.SideInput{Input: splits})
	return nil
}
