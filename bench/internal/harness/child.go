package harness

// The child side: each measurement runs in a fresh process (the bench
// binary re-executed with KVBENCH_CHILD=1), so one system's heap, mappings
// and peak RSS never mix with another's. A child prints one JSON object.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/bench/internal/systems"
)

// ChildEnv marks a re-executed child process.
const ChildEnv = "KVBENCH_CHILD"

// IsChild reports whether this process is a measurement child.
func IsChild() bool { return os.Getenv(ChildEnv) == "1" }

// BuildOut is what a build child reports.
type BuildOut struct {
	Seconds float64 `json:"seconds"`
	// PeakRSS is the build's peak RSS: this process's VmHWM, or that of
	// the process the build ran (kvbuild) when larger.
	PeakRSS int64 `json:"peak_rss"`
}

// QueryOut is what a query child reports (warm lookups and scans).
type QueryOut struct {
	OpenSec    float64   `json:"open_seconds"`
	HitsPerSec []float64 `json:"hits_per_sec"`
	MissPerSec []float64 `json:"misses_per_sec"`
	// Per CPU-second of the measuring thread: less sensitive than the wall
	// rates to other work on a shared machine.
	HitsPerCPU   []float64 `json:"hits_per_cpu_sec"`
	MissPerCPU   []float64 `json:"misses_per_cpu_sec"`
	ScanPerCPU   []float64 `json:"scan_keys_per_cpu_sec"`
	Hits2PerSec  []float64 `json:"hits_per_sec_2_goroutines"`
	ScanPerSec   []float64 `json:"scan_keys_per_sec"`
	AllocsPerGet float64   `json:"allocs_per_get"`
	ScanKeys     int       `json:"scan_keys"`
}

// ColdOut is what a cold child reports.
type ColdOut struct {
	OpenSec     float64 `json:"open_seconds"`
	FirstGetSec float64 `json:"first_get_seconds"`
	Lookups     int     `json:"lookups"`
	Seconds     float64 `json:"seconds"`
}

type childFlags struct {
	sys, dir, raw, sorted, hits, misses string
	reps, limit, count                  int
	maxSec                              float64
}

// RunChild runs the child subcommand in args and exits the process.
func RunChild(args []string) {
	if err := runChild(args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kvbench child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(args []string, stdout io.Writer) error {
	if len(args) < 1 {
		return errors.New("missing child subcommand")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	var cf childFlags
	fs.StringVar(&cf.sys, "sys", "", "system")
	fs.StringVar(&cf.dir, "dir", "", "dataset directory")
	fs.StringVar(&cf.raw, "raw", "", "original TSV")
	fs.StringVar(&cf.sorted, "sorted", "", "sorted TSV")
	fs.StringVar(&cf.hits, "hits", "", "hit keys")
	fs.StringVar(&cf.misses, "misses", "", "miss keys")
	fs.IntVar(&cf.reps, "reps", 3, "repetitions")
	fs.IntVar(&cf.limit, "limit", 0, "use at most this many query keys")
	fs.IntVar(&cf.count, "count", 0, "lookups")
	fs.Float64Var(&cf.maxSec, "max-seconds", 5, "time limit")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	sys, err := systems.Lookup(cf.sys)
	if err != nil {
		return err
	}
	var out any
	switch args[0] {
	case "build":
		out, err = childBuild(sys, cf)
	case "query":
		out, err = childQuery(sys, cf)
	case "cold":
		out, err = childCold(sys, cf)
	case "serve":
		return childServe(sys, cf, os.Stdin, stdout)
	default:
		return fmt.Errorf("unknown child subcommand %q", args[0])
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(out)
}

func childBuild(sys systems.System, cf childFlags) (*BuildOut, error) {
	t0 := time.Now()
	if sys.Path(cf.dir) == "" {
		// Nothing to build (the Go map): the "build" is the load.
		st, err := sys.Open(cf.dir, cf.raw)
		if err != nil {
			return nil, err
		}
		defer st.Close()
	} else if err := sys.Build(cf.dir, cf.sorted, cf.raw); err != nil {
		return nil, err
	}
	sec := time.Since(t0).Seconds()
	return &BuildOut{Seconds: sec, PeakRSS: max(selfHWM(), systems.LastBuildPeakRSS)}, nil
}

// selfHWM is this process's peak RSS (VmHWM in /proc/self/status). It is
// used rather than the parent's getrusage(ru_maxrss) of the child, because
// Linux folds the spawning process's RSS into the child's ru_maxrss at
// exec (Go spawns with CLONE_VM), which would add the harness's own heap.
func selfHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v * 1024
		}
	}
	return 0
}

var sink int

// lookups runs q's first n keys (cycling) through g and returns how many
// it found; touching the value's first and last bytes makes every system
// fault its value page in.
func lookups(g systems.Getter, q *QueryFile, from, n int) (found int, err error) {
	m := q.Len()
	s := 0
	for i := range n {
		v, ok, err := g.Get(q.Key((from + i) % m))
		if err != nil {
			return found, err
		}
		if ok {
			found++
			if len(v) > 0 {
				s += int(v[0]) + int(v[len(v)-1])
			}
		}
	}
	sink += s
	return found, nil
}

func childQuery(sys systems.System, cf childFlags) (*QueryOut, error) {
	hits, err := OpenQueryFile(cf.hits, cf.limit)
	if err != nil {
		return nil, err
	}
	defer hits.Close()
	misses, err := OpenQueryFile(cf.misses, cf.limit)
	if err != nil {
		return nil, err
	}
	defer misses.Close()
	out := &QueryOut{}
	t0 := time.Now()
	st, err := sys.Open(cf.dir, cf.raw)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	out.OpenSec = time.Since(t0).Seconds()
	g, err := st.NewGetter()
	if err != nil {
		return nil, err
	}
	defer g.Close()

	// Warm-up pass, which also checks every answer: the figures count only
	// for a system that returns the right values.
	for i := range hits.Len() {
		v, ok, err := g.Get(hits.Key(i))
		if err != nil {
			return nil, err
		}
		if !ok || !bytes.Equal(v, hits.Value(i)) {
			return nil, fmt.Errorf("%s: Get(%q) = %q, %v; want %q", sys.Name(), hits.Key(i), v, ok, hits.Value(i))
		}
	}
	for i := range misses.Len() {
		if _, ok, err := g.Get(misses.Key(i)); err != nil || ok {
			return nil, fmt.Errorf("%s: Get(%q) of an absent key: found=%v err=%v", sys.Name(), misses.Key(i), ok, err)
		}
	}

	// The single-goroutine passes run on this locked thread, so its CPU
	// clock measures them alone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rate := func(n int, f func() error) (wall, cpu float64, err error) {
		c0 := threadCPU()
		t := time.Now()
		if err := f(); err != nil {
			return 0, 0, err
		}
		wall = float64(n) / time.Since(t).Seconds()
		if c := threadCPU() - c0; c > 0 {
			cpu = float64(n) / c
		}
		return wall, cpu, nil
	}
	// The two goroutines' getters are made and warmed once, outside the
	// timing: for tinycdb a getter is a fresh mapping of the file, whose
	// page faults would otherwise be timed.
	var gs [2]systems.Getter
	for i := range gs {
		if gs[i], err = st.NewGetter(); err != nil {
			return nil, err
		}
		defer gs[i].Close()
	}
	if err := twoGoroutines(gs, hits); err != nil {
		return nil, err
	}
	for range cf.reps {
		w, c, err := rate(hits.Len(), func() error { _, err := lookups(g, hits, 0, hits.Len()); return err })
		if err != nil {
			return nil, err
		}
		out.HitsPerSec, out.HitsPerCPU = append(out.HitsPerSec, w), append(out.HitsPerCPU, c)
		w, c, err = rate(misses.Len(), func() error { _, err := lookups(g, misses, 0, misses.Len()); return err })
		if err != nil {
			return nil, err
		}
		out.MissPerSec, out.MissPerCPU = append(out.MissPerSec, w), append(out.MissPerCPU, c)
		// Two goroutines, each with its own getter, each on half the keys
		// (wall clock only).
		w, _, err = rate(hits.Len(), func() error { return twoGoroutines(gs, hits) })
		if err != nil {
			return nil, err
		}
		out.Hits2PerSec = append(out.Hits2PerSec, w)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if _, err := lookups(g, hits, 0, hits.Len()); err != nil {
		return nil, err
	}
	runtime.ReadMemStats(&m1)
	if hits.Len() > 0 {
		out.AllocsPerGet = float64(m1.Mallocs-m0.Mallocs) / float64(hits.Len())
	}
	for range cf.reps {
		c0 := threadCPU()
		t := time.Now()
		s := 0
		n, err := st.Scan(func(k, v []byte) { s += len(k) + len(v) })
		if err != nil {
			return nil, err
		}
		sink += s
		out.ScanKeys = n
		out.ScanPerSec = append(out.ScanPerSec, float64(n)/time.Since(t).Seconds())
		if c := threadCPU() - c0; c > 0 {
			out.ScanPerCPU = append(out.ScanPerCPU, float64(n)/c)
		}
	}
	return out, nil
}

// threadCPU is the calling thread's CPU time in seconds.
func threadCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}

func twoGoroutines(gs [2]systems.Getter, q *QueryFile) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	half := q.Len() / 2
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := half
			if w == 1 {
				n = q.Len() - half
			}
			_, errs[w] = lookups(gs[w], q, w*half, n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func childCold(sys systems.System, cf childFlags) (*ColdOut, error) {
	hits, err := OpenQueryFile(cf.hits, cf.count)
	if err != nil {
		return nil, err
	}
	defer hits.Close()
	out := &ColdOut{}
	t0 := time.Now()
	st, err := sys.Open(cf.dir, cf.raw)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	out.OpenSec = time.Since(t0).Seconds()
	g, err := st.NewGetter()
	if err != nil {
		return nil, err
	}
	defer g.Close()
	t1 := time.Now()
	deadline := t1.Add(time.Duration(cf.maxSec * float64(time.Second)))
	for i := 0; i < hits.Len(); i++ {
		if _, ok, err := g.Get(hits.Key(i)); err != nil || !ok {
			return nil, fmt.Errorf("%s: cold Get(%q): found=%v err=%v", sys.Name(), hits.Key(i), ok, err)
		}
		out.Lookups++
		if i == 0 {
			out.FirstGetSec = time.Since(t0).Seconds()
		}
		if i%64 == 63 && time.Now().After(deadline) {
			break
		}
	}
	out.Seconds = time.Since(t1).Seconds()
	return out, nil
}

// childServe is a reader process for the many-processes figure: it opens
// the store, warms its own mappings, prints "ready", then answers each
// "run MS" line on stdin with the number of lookups it did in MS
// milliseconds, until "exit".
func childServe(sys systems.System, cf childFlags, in io.Reader, out io.Writer) error {
	hits, err := OpenQueryFile(cf.hits, cf.limit)
	if err != nil {
		return err
	}
	defer hits.Close()
	st, err := sys.Open(cf.dir, cf.raw)
	if err != nil {
		return err
	}
	defer st.Close()
	g, err := st.NewGetter()
	if err != nil {
		return err
	}
	defer g.Close()
	if _, err := lookups(g, hits, 0, hits.Len()); err != nil {
		return err
	}
	runtime.GC()
	fmt.Fprintln(out, "ready")
	sc := bufio.NewScanner(in)
	pos := os.Getpid() % max(hits.Len(), 1) // readers start at different keys
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "exit":
			return nil
		case "run":
			ms, err := strconv.Atoi(f[1])
			if err != nil {
				return err
			}
			deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
			n := 0
			for time.Now().Before(deadline) {
				if _, err := lookups(g, hits, pos, 256); err != nil {
					return err
				}
				pos = (pos + 256) % max(hits.Len(), 1)
				n += 256
			}
			fmt.Fprintln(out, n)
		}
	}
	return sc.Err()
}

// Median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
