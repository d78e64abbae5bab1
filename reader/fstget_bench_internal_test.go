package reader

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/blevesearch/vellum"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/frame"
)

// BenchmarkFSTPath takes apart the FST Get path (no hash index) on a large
// dictionary that already exists: -bench.fstdict names it and
// -bench.fsttsv its input TSV, whose first keys are the probes (kvbuild
// input is in random order). It times, in turn on 1024-key chunks so that a
// shared machine's load hits all alike, and on different keys so that none
// warms another's lines:
//
//	walker   fst.FST.Get alone
//	vellum   vellum's Reader.Get alone, on the same mapped bytes
//	get      Dict.Get: the walker plus the value read (through the
//	         dictionary's FST top files if it has them)
//	gettop   the same through top files built here, in memory, from the
//	         FST bytes (fst.WriteTop, limit -bench.fsttop): on a
//	         dictionary without top files, get against gettop is their gain
//	vget     vellum's Reader.Get plus the same value read (kvbench's vellum)
//
// It reports each one's ns per lookup and vget's time over each one's
// (X/vget: issue 8's target is get/vget >= 1.5). lookup=hit looks up keys
// of the TSV, lookup=miss the same with their last byte changed,
// lookup=hot 64 of the hits over and over (cached: the CPU's share).
// -bench.fstimpls keeps only some of them (for a CPU profile of one). It
// logs (-test.v) how much of each mapping is in 2 MiB pages. It skips
// without the flags. Run, e.g.:
//
//	flock /work/bench.lock go test -run '^$' -bench FSTPath -count 3 ./reader/ \
//	    -bench.fstdict /work/big/shared/random10m.kvd -bench.fsttsv /work/big/shared/random10m.tsv
func BenchmarkFSTPath(b *testing.B) {
	if *benchFSTDict == "" || *benchFSTTSV == "" {
		b.Skip("needs -bench.fstdict and -bench.fsttsv")
	}
	d, err := Open(*benchFSTDict, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	hits, err := readProbeKeys(*benchFSTTSV, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	misses := make([][]byte, len(hits))
	for i, k := range hits {
		m := bytes.Clone(k)
		m[len(m)-1] ^= 0x80 // not a URL or hex byte: absent
		misses[i] = m
	}
	vr := make([]*vellum.Reader, len(d.parts))
	for i := range d.parts {
		body := d.parts[i].fstFile.Data[frame.HeaderLen : len(d.parts[i].fstFile.Data)-frame.FooterLen]
		v, err := vellum.Load(body)
		if err != nil {
			b.Fatal(err)
		}
		if vr[i], err = v.Reader(); err != nil {
			b.Fatal(err)
		}
	}
	tops := make([]*fst.FST, len(d.parts))
	for i := range d.parts {
		f, err := fst.Load(d.parts[i].fstFile.Data)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var buf bytes.Buffer
		if _, err := fst.WriteTop(&buf, f, &fst.TopOptions{Limit: *benchFSTTopLimit}); err != nil { // 0: the default
			b.Fatal(err)
		}
		t, err := fst.LoadTop(buf.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("part %d: top %d bytes (%.2f B/key) built in %v", i, t.Size(), float64(t.Size())/float64(f.Len()), time.Since(t0))
		if err := f.SetTop(t); err != nil {
			b.Fatal(err)
		}
		tops[i] = f
	}
	partOf := func(k []byte) int {
		p := d.find(k)
		return int((uintptr(unsafe.Pointer(p)) - uintptr(unsafe.Pointer(&d.parts[0]))) / unsafe.Sizeof(d.parts[0]))
	}
	impls := []struct {
		name string
		get  func(k []byte) bool
	}{
		{"walker", func(k []byte) bool {
			p := d.find(k)
			_, ok, err := p.fst.Get(k)
			if err != nil {
				panic(err)
			}
			return ok
		}},
		{"vellum", func(k []byte) bool {
			_, ok, err := vr[partOf(k)].Get(k)
			if err != nil {
				panic(err)
			}
			return ok
		}},
		{"get", func(k []byte) bool {
			_, err := d.Get(k)
			return err == nil
		}},
		{"gettop", func(k []byte) bool {
			p := partOf(k)
			off, ok, err := tops[p].GetPrefetch(k, d.parts[p].values)
			if err != nil || !ok {
				return false
			}
			_, err = d.parts[p].log.Value(off)
			return err == nil
		}},
		{"vget", func(k []byte) bool {
			p := partOf(k)
			off, ok, err := vr[p].Get(k)
			if err != nil || !ok {
				return false
			}
			_, err = d.parts[p].log.Value(off)
			return err == nil
		}},
	}
	if *benchFSTImpls != "" {
		var keep []struct {
			name string
			get  func(k []byte) bool
		}
		for _, im := range impls {
			if strings.Contains(","+*benchFSTImpls+",", ","+im.name+",") {
				keep = append(keep, im)
			}
		}
		impls = keep
	}
	// Warm: every variant sees every probe once (page faults, 2 MiB
	// mappings), untimed, and must answer right.
	for _, im := range impls {
		for _, k := range hits {
			if !im.get(k) {
				b.Fatalf("%s: hit %q not found", im.name, k)
			}
		}
		for _, k := range misses {
			if im.get(k) {
				b.Fatalf("%s: miss %q found", im.name, k)
			}
		}
	}
	for i := range d.parts {
		b.Logf("part %d: FST %s; value log %s", i, pmdMapped(d.parts[i].fstFile.Data), pmdMapped(d.parts[i].logFile.Data))
	}
	for _, lookup := range []string{"hit", "miss", "hot"} {
		probes := hits
		switch lookup {
		case "miss":
			probes = misses
		case "hot": // a few keys, cached: the CPU's part of a lookup
			probes = hits[:64]
		}
		b.Run("lookup="+lookup, func(b *testing.B) {
			b.ReportAllocs()
			const chunk = 1024
			pos := make([]int, len(impls))
			for i := range pos {
				pos[i] = i * len(probes) / len(impls)
			}
			el := make([]time.Duration, len(impls))
			for b.Loop() {
				for i, im := range impls {
					t0 := time.Now()
					j := pos[i]
					for range chunk {
						im.get(probes[j])
						if j++; j == len(probes) {
							j = 0
						}
					}
					pos[i] = j
					el[i] += time.Since(t0)
				}
			}
			n := float64(chunk * b.N)
			for i, im := range impls {
				b.ReportMetric(float64(el[i].Nanoseconds())/n, im.name+"-ns")
			}
			vg := el[len(el)-1].Seconds()
			for i, im := range impls[:len(impls)-1] {
				b.ReportMetric(vg/el[i].Seconds(), im.name+"/vget")
			}
		})
	}
}

var (
	benchFSTDict     = flag.String("bench.fstdict", "", "BenchmarkFSTPath: an existing FST-only dictionary")
	benchFSTTSV      = flag.String("bench.fsttsv", "", "BenchmarkFSTPath: its input TSV (probe keys)")
	benchFSTTopLimit = flag.Int("bench.fsttop", 0, "BenchmarkFSTPath: gettop's fst.TopOptions.Limit (0: the default)")
	benchFSTImpls    = flag.String("bench.fstimpls", "", "BenchmarkFSTPath: only these lookups (comma-separated: walker,vellum,get,gettop,vget)")
)

// readProbeKeys returns the keys of the first n lines of a TSV file.
func readProbeKeys(path string, n int) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var keys [][]byte
	for len(keys) < n && sc.Scan() {
		k, _, _ := bytes.Cut(sc.Bytes(), []byte{'\t'})
		keys = append(keys, bytes.Clone(k))
	}
	return keys, sc.Err()
}

// pmdMapped describes how much of the mapping data is mapped with 2 MiB
// pages, from /proc/self/smaps (FilePmdMapped against Rss).
func pmdMapped(data []byte) string {
	if len(data) == 0 {
		return "empty"
	}
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return err.Error()
	}
	start := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&data[0])))
	in := false
	var rss, pmd string
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			in = strings.HasPrefix(line, start)
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			rss = strings.Join(strings.Fields(line)[1:], " ")
		}
		if in && strings.HasPrefix(line, "FilePmdMapped:") {
			pmd = strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	return fmt.Sprintf("%d MiB mapped at %#x: Rss %s, FilePmdMapped %s", len(data)>>20, uintptr(unsafe.Pointer(&data[0])), rss, pmd)
}
