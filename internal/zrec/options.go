package zrec

import "github.com/klauspost/compress/zstd"

// Group shape recommended by the measurements (docs/BENCHMARKS.md,
// "Compressed records"): a group closes when it holds DefaultGroupRecords
// records or when the next record would take its payload past
// DefaultGroupBytes, whichever comes first (a longer record gets a group of
// its own). Eight records give ~85% of the size gain of 32 at a quarter of
// the decoding cost, which is about 150 ns plus 2 ns per payload byte.
// MaxGroupRecords is the most records a group may hold, so that a record's
// index fits in the 4 low bits of its address (group offset << 4 | index).
const (
	DefaultGroupRecords = 8
	DefaultGroupBytes   = 1024
	MaxGroupRecords     = 16
)

// Defaults of the options below.
const (
	DefaultMaxDictSize = 64 << 10 // bytes of trained dictionary
	DefaultSampleBytes = 1 << 20  // bytes of samples the Trainer keeps
	DefaultMaxSample   = 8 << 10  // longer samples are truncated
	DefaultMaxPayload  = 64 << 20 // decoder bound on a group's payload
)

// TrainOptions configures a Trainer. A nil *TrainOptions means defaults.
type TrainOptions struct {
	// MaxDictSize is the largest dictionary to train, in bytes. 0 means
	// DefaultMaxDictSize. The dictionary is also kept under an eighth of
	// the sampled bytes, so a small data set gets a small dictionary.
	MaxDictSize int
	// SampleBytes bounds the memory of the sample, in bytes. 0 means
	// DefaultSampleBytes.
	SampleBytes int
	// MaxSample truncates each sample to this many bytes. 0 means
	// DefaultMaxSample.
	MaxSample int
	// Seed makes the sample (and so the dictionary) reproducible for the
	// same sequence of Add calls. 0 is a valid seed.
	Seed uint64
}

func (o *TrainOptions) ensureDefaults() TrainOptions {
	var r TrainOptions
	if o != nil {
		r = *o
	}
	if r.MaxDictSize <= 0 {
		r.MaxDictSize = DefaultMaxDictSize
	}
	if r.SampleBytes <= 0 {
		r.SampleBytes = DefaultSampleBytes
	}
	if r.MaxSample <= 0 {
		r.MaxSample = DefaultMaxSample
	}
	return r
}

// EncoderOptions configures an Encoder. A nil *EncoderOptions means
// defaults.
type EncoderOptions struct {
	// NoChecksum leaves out the 4-byte CRC-32C of each group's payload.
	// The default (false) writes it, so that any damage the CRC detects
	// is an error rather than a silently different value. Whether groups
	// carry checksums is a property of the whole file: the writer records
	// it, and the reader passes the same setting to NewDecoder.
	NoChecksum bool
	// Level is the zstd level; 0 means zstd.SpeedFastest, which with a
	// trained dictionary compresses within ~4% of SpeedBetterCompression
	// on our data at a third of the cost (docs/BENCHMARKS.md).
	Level zstd.EncoderLevel
}

// DecoderOptions configures a Decoder. A nil *DecoderOptions means
// defaults.
type DecoderOptions struct {
	// MaxPayload is the largest payload (decompressed group) the decoder
	// accepts, checked before anything is allocated. Set it from the
	// writer's Encoder.MaxPayload recorded in the file. 0 means
	// DefaultMaxPayload.
	MaxPayload int
	// NoChecksum must match the EncoderOptions.NoChecksum the groups were
	// written with (the file records it).
	NoChecksum bool
}

func (o *DecoderOptions) ensureDefaults() DecoderOptions {
	var r DecoderOptions
	if o != nil {
		r = *o
	}
	if r.MaxPayload <= 0 {
		r.MaxPayload = DefaultMaxPayload
	}
	if r.MaxPayload > maxPayloadLimit {
		r.MaxPayload = maxPayloadLimit
	}
	return r
}
