package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/reader"
)

const infoDescription = `Prints what the dictionary's MANIFEST records and what the reader sees:
   path              DICT as given
   store_version     when DICT is a store (kvbuild --publish): the version
                     read, the one its CURRENT file names
   format_version    the dictionary format version (docs/FORMAT.md)
   features          format features a reader must implement ("-" for none;
                     keyed-records: keys stored in the value log)
   optional_features features a reader may ignore ("-" for none;
                     hash-index: a hash index file per partition;
                     fst-top: a top file per partition, the FST's upper
                     states copied compactly for faster FST lookups)
   hash_index        true when Get uses a hash index (kvbuild --hash-index)
   keys, values      number of keys, and of stored value records (identical
                     values are stored once, so values <= keys)
   max_key_len       the longest key, in bytes
   partitions        number of partitions (key ranges, one FST file and one
                     value log each)
   size              total bytes of all data files
   created, tool     when and by which program the dictionary was built
   build.NAME        each build option recorded by kvbuild
   partition.I.*     per partition: key count, first and last key (Go
                     quoted), and for the FST and value-log files their
                     name, size and CRC-32C (as written in the file footer)
   stats.NAME        the reader's statistics
   kvlookup_version  this program's version
as "name<TAB>value" lines. --format json prints one JSON object instead,
with the MANIFEST as kvbuild wrote it under "manifest" (keys are base64
there, as in the file). info reads only the MANIFEST and file footers: it
is instant and does not check the data (use verify for that).

Exit status: 0, 2 usage, 3 the dictionary cannot be opened or is corrupt.`

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:        "info",
		Usage:       "print format version, counts, partitions, sizes, checksums and build options",
		ArgsUsage:   "DICT",
		Description: infoDescription,
		Flags:       outputFlags(),
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, "DICT"); err != nil {
				return err
			}
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			d, err := openDict(c)
			if err != nil {
				return err
			}
			defer d.Close()
			if p.format == formatJSON {
				err = infoJSON(p, c.Args().First(), d)
			} else {
				err = infoTSV(p, c.Args().First(), d)
			}
			if err == nil {
				err = p.flush()
			}
			if err != nil {
				return ioError(c, "writing output", err)
			}
			return nil
		},
	}
}

func infoJSON(p *printer, path string, d *reader.Dict) error {
	st, _ := d.Stats() // an error only means residency is unknown
	stats := map[string]any{}
	flatten("", reflect.ValueOf(st), func(name string, v any) { stats[name[1:]] = v })
	b, err := json.Marshal(struct {
		Path         string           `json:"path"`
		StoreVersion string           `json:"store_version,omitempty"`
		Manifest     *reader.Manifest `json:"manifest"`
		Stats        map[string]any   `json:"stats"`
		Version      string           `json:"kvlookup_version"`
	}{path, d.Version(), d.Manifest(), stats, toolVersion()})
	if err != nil {
		return err
	}
	p.w.Write(b)
	return p.w.WriteByte('\n')
}

func infoTSV(p *printer, path string, d *reader.Dict) error {
	m := d.Manifest()
	var size uint64
	for _, pt := range m.Partitions {
		size += pt.FST.Size + pt.Log.Size
		if pt.HashIndex != nil {
			size += pt.HashIndex.Size
		}
		if pt.Top != nil {
			size += pt.Top.Size
		}
	}
	features := cmp.Or(strings.Join(m.Features, ","), "-")
	optional := cmp.Or(strings.Join(m.OptionalFeatures, ","), "-")
	kv := func(name string, v any) { fmt.Fprintf(p.w, "%s\t%v\n", name, v) }
	kv("path", path)
	if v := d.Version(); v != "" {
		kv("store_version", v) // path is a store; this version was read
	}
	kv("format_version", m.FormatVersion)
	kv("features", features)
	kv("optional_features", optional)
	kv("hash_index", m.Has(manifest.FeatureHashIndex))
	kv("keys", m.Keys)
	kv("values", m.Values)
	kv("max_key_len", m.MaxKeyLen)
	kv("partitions", len(m.Partitions))
	kv("size", fmt.Sprintf("%d (%s)", size, humanBytes(size)))
	kv("created", m.Created.UTC().Format(time.RFC3339))
	kv("tool", cmp.Or(m.Tool, "-"))
	for _, k := range slices.Sorted(maps.Keys(m.Build)) {
		kv("build."+k, m.Build[k])
	}
	for i, pt := range m.Partitions {
		pre := fmt.Sprintf("partition.%d.", i)
		kv(pre+"keys", pt.Keys)
		kv(pre+"first_key", quoteKey(pt.FirstKey))
		kv(pre+"last_key", quoteKey(pt.LastKey))
		kv(pre+"fst", fmt.Sprintf("%s size=%d crc32c=%08x", pt.FST.Name, pt.FST.Size, pt.FST.CRC32C))
		kv(pre+"vlog", fmt.Sprintf("%s size=%d crc32c=%08x records=%d", pt.Log.Name, pt.Log.Size, pt.Log.CRC32C, pt.Log.Count))
		if tp := pt.Top; tp != nil {
			kv(pre+"top", fmt.Sprintf("%s size=%d crc32c=%08x nodes=%d bytes_per_key=%.2f", tp.Name, tp.Size, tp.CRC32C, tp.Count, float64(tp.Size)/float64(max(pt.Keys, 1))))
		}
		if h := pt.HashIndex; h != nil {
			kv(pre+"hix", fmt.Sprintf("%s size=%d crc32c=%08x keys=%d bytes_per_key=%.2f", h.Name, h.Size, h.CRC32C, h.Count, float64(h.Size)/float64(max(h.Count, 1))))
		}
	}
	st, _ := d.Stats() // an error only means residency is unknown
	flatten("stats", reflect.ValueOf(st), kv)
	kv("kvlookup_version", toolVersion())
	return p.w.Flush()
}

// flatten prints the fields of a (nested) struct as name.field lines, so
// that info shows whatever reader.Stats holds.
func flatten(name string, v reflect.Value, kv func(string, any)) {
	switch v.Kind() {
	case reflect.Struct:
		if _, ok := v.Interface().(time.Time); ok {
			kv(name, v.Interface())
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				flatten(name+"."+snake(f.Name), v.Field(i), kv)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			flatten(name, v.Elem(), kv)
		}
	default:
		kv(name, v.Interface())
	}
}

// humanBytes formats n with a binary unit: 1536 -> "1.5 KiB".
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// snake turns a Go field name into the snake_case info prints:
// FSTBytes -> fst_bytes, ResidentBytes -> resident_bytes.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			prev := rune(name[i-1])
			nextLower := i+1 < len(name) && unicode.IsLower(rune(name[i+1]))
			if unicode.IsLower(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
