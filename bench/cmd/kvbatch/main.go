// Command kvbatch measures kvdict's batch lookups on existing dictionaries
// and a file of query keys (one per line): reader.Dict.GetBatch on one
// goroutine, per second of that thread's CPU time and per second of wall
// time, beside a plain Get loop on the same keys; and, with -kvlookup, the
// rate of `kvlookup get DICT` reading the keys from a pipe and writing to
// /dev/null (the process's whole wall time, start to exit). These are the
// batch figures of issue 8 (docs/BENCHMARKS.md §11).
//
//	cd bench && go build -o /tmp/kvbatch ./cmd/kvbatch
//	flock /work/bench.lock /tmp/kvbatch -keys url.hits -reps 5 \
//	    -kvlookup /tmp/kvlookup url10m-hix.kvd url10m.kvd
//
// Every repetition measures each dictionary in turn (round robin), so
// that a change in machine load hits all of them alike; the report gives
// each figure per repetition and the median. The lookups run in this
// process, after a warm-up pass over every query key; -cpuprofile writes a
// CPU profile of the GetBatch passes only.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/reader"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kvbatch:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("kvbatch", flag.ContinueOnError)
	keysFile := fs.String("keys", "", "query keys, one per line (required)")
	reps := fs.Int("reps", 5, "repetitions (round robin over the dictionaries)")
	batch := fs.Int("batch", 4096, "keys per GetBatch call")
	single := fs.Bool("get", true, "also measure a plain Get loop on the same keys")
	kvlookup := fs.String("kvlookup", "", "kvlookup binary: also measure `kvlookup get DICT` with the keys piped in")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the GetBatch passes to `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kvbatch -keys FILE [flags] DICT...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keysFile == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("need -keys and at least one DICT")
	}
	data, err := os.ReadFile(*keysFile)
	if err != nil {
		return err
	}
	keys := splitLines(data)
	fmt.Printf("kvbatch: %d query keys from %s, batches of %d, %d repetitions, GOMAXPROCS %d\n", len(keys), *keysFile, *batch, *reps, runtime.GOMAXPROCS(0))
	fmt.Printf("load at start: %s\n", loadavg())

	dicts := make([]*reader.Dict, fs.NArg())
	for i, path := range fs.Args() {
		if dicts[i], err = reader.Open(path, nil); err != nil {
			return err
		}
		defer dicts[i].Close()
		if _, err := batchPass(dicts[i], keys, *batch); err != nil { // warm-up
			return fmt.Errorf("%s: %w", path, err)
		}
		rss, huge := mappedPages(path)
		fmt.Printf("%s: %.0f MiB of its files resident in this process, %.0f%% of it in 2 MiB pages\n", path, float64(rss)/(1<<20), 100*float64(huge)/float64(max(rss, 1)))
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	var all []*series
	get := func(name, unit string) *series {
		for _, s := range all {
			if s.name == name {
				return s
			}
		}
		s := &series{name: name, unit: unit}
		all = append(all, s)
		return s
	}
	for r := range *reps {
		for i, path := range fs.Args() {
			d := dicts[i]
			m, err := batchPass(d, keys, *batch)
			if err != nil {
				return err
			}
			get(path+"  GetBatch, keys/s of thread CPU", "M/s").add(m.perCPU())
			get(path+"  GetBatch, keys/s of wall", "M/s").add(m.perWall())
			fmt.Printf("rep %d %s: GetBatch %.2fM keys/s CPU, %.2fM wall, %d found\n", r+1, path, m.perCPU()/1e6, m.perWall()/1e6, m.found)
			if *single {
				m := getPass(d, keys)
				get(path+"  Get loop, keys/s of thread CPU", "M/s").add(m.perCPU())
				fmt.Printf("rep %d %s: Get loop %.2fM keys/s CPU, %.2fM wall\n", r+1, path, m.perCPU()/1e6, m.perWall()/1e6)
			}
		}
		if *kvlookup == "" {
			continue
		}
		pprof.StopCPUProfile() // only the GetBatch passes are profiled
		for _, path := range fs.Args() {
			wall, cpu, err := pipePass(*kvlookup, path, data)
			if err != nil {
				return err
			}
			rate := float64(len(keys)) / wall.Seconds()
			get(path+"  kvlookup get < pipe, keys/s of wall", "M/s").add(rate)
			fmt.Printf("rep %d %s: kvlookup get over a pipe %.2fM keys/s (%.3f s wall, %.3f s CPU)\n", r+1, path, rate/1e6, wall.Seconds(), cpu.Seconds())
		}
	}
	fmt.Printf("load at end: %s\n", loadavg())
	fmt.Println("medians:")
	for _, s := range all {
		fmt.Printf("  %-70s %6.2f %s   (", s.name, median(s.v)/1e6, s.unit)
		for i, x := range s.v {
			if i > 0 {
				fmt.Print(" ")
			}
			fmt.Printf("%.2f", x/1e6)
		}
		fmt.Println(")")
	}
	return nil
}

// series is one figure over the repetitions.
type series struct {
	name, unit string
	v          []float64
}

func (s *series) add(x float64) { s.v = append(s.v, x) }

// measured is one pass over the query keys.
type measured struct {
	n, found  int
	cpu, wall time.Duration
}

func (m measured) perCPU() float64  { return float64(m.n) / m.cpu.Seconds() }
func (m measured) perWall() float64 { return float64(m.n) / m.wall.Seconds() }

// batchPass looks every key up with GetBatch, batch keys per call, on
// this goroutine locked to its thread.
func batchPass(d *reader.Dict, keys [][]byte, batch int) (measured, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	vals, found := make([][]byte, batch), make([]bool, batch)
	m := measured{n: len(keys)}
	c0, t0 := threadCPU(), time.Now()
	for lo := 0; lo < len(keys); lo += batch {
		ks := keys[lo:min(lo+batch, len(keys))]
		if err := d.GetBatch(ks, vals, found); err != nil {
			return m, err
		}
		for _, f := range found[:len(ks)] {
			if f {
				m.found++
			}
		}
	}
	m.cpu, m.wall = threadCPU()-c0, time.Since(t0)
	return m, nil
}

// getPass looks every key up with Get, one by one.
func getPass(d *reader.Dict, keys [][]byte) measured {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m := measured{n: len(keys)}
	c0, t0 := threadCPU(), time.Now()
	for _, k := range keys {
		if _, err := d.Get(k); err == nil {
			m.found++
		}
	}
	m.cpu, m.wall = threadCPU()-c0, time.Since(t0)
	return m
}

// pipePass runs `kvlookup get DICT` with data written into its stdin
// through a pipe and its stdout on /dev/null, and returns its wall time
// (start to exit) and CPU time (user + system).
func pipePass(bin, dict string, data []byte) (wall, cpu time.Duration, err error) {
	cmd := exec.Command(bin, "get", dict)
	in, err := cmd.StdinPipe()
	if err != nil {
		return 0, 0, err
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, err
	}
	defer null.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = null, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	w := bufio.NewWriterSize(in, 64<<10)
	_, werr := w.Write(data)
	werr = errors.Join(werr, w.Flush(), in.Close())
	err = cmd.Wait()
	wall = time.Since(t0)
	if err != nil || werr != nil {
		return 0, 0, fmt.Errorf("kvlookup get %s: %w (%s)", dict, errors.Join(err, werr), strings.TrimSpace(stderr.String()))
	}
	cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return wall, cpu, nil
}

// splitLines returns the lines of data without their \n.
func splitLines(data []byte) [][]byte {
	var keys [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			keys = append(keys, data)
			break
		}
		keys = append(keys, data[:i:i])
		data = data[i+1:]
	}
	return keys
}

// mappedPages returns the resident bytes (Rss) of this process's mappings
// of files under dir, and how many of them are mapped with 2 MiB pages
// (FilePmdMapped), from /proc/self/smaps.
func mappedPages(dir string) (rss, huge int64) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, 0
	}
	dir = strings.TrimSuffix(dir, "/") + "/"
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's header line
			in = strings.HasPrefix(f[len(f)-1], dir)
			continue
		}
		if in && len(f) >= 2 && (f[0] == "Rss:" || f[0] == "FilePmdMapped:") {
			var kb int64
			fmt.Sscan(f[1], &kb)
			if f[0] == "Rss:" {
				rss += kb << 10
			} else {
				huge += kb << 10
			}
		}
	}
	return rss, huge
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic("kvbatch: clock_gettime: " + err.Error())
	}
	return time.Duration(ts.Nano())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
