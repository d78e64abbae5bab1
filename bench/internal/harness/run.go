package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kvdict/kvdict/bench/internal/results"
	"github.com/kvdict/kvdict/bench/internal/systems"
)

// Options configure a run of the parent (the orchestrator).
type Options struct {
	Exe        string // the binary to re-execute for children
	DataDir    string // datasets, stores and query files live here
	Systems    []string
	Queries    int // query keys per set (hits, misses)
	Reps       int // repetitions of each lookup/scan/cold measurement
	BuildReps  int
	Procs      []int // reader-process counts for the many-processes figure
	Windows    int   // measurement windows per process count
	WindowMS   int
	ServeKeys  int // query keys each serving process cycles through
	ColdCount  int // lookups measured after dropping the cache
	ColdMaxSec float64
	SkipCold   bool
	SkipMulti  bool
	// RecacheHuge re-reads every store's files into 2 MiB page-cache
	// folios before the warm lookups (see RecacheHuge).
	RecacheHuge bool
	Log         io.Writer
}

func (o *Options) Logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
}

// child runs one measurement child and decodes its JSON into out; it
// returns the child's getrusage ru_maxrss, which on Linux also counts the
// parent's RSS at the time of the exec (so builds report VmHWM instead).
func (o *Options) child(out any, args ...string) (maxRSS int64, err error) {
	cmd := exec.Command(o.Exe, append([]string{"child"}, args...)...)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("child %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxRSS = ru.Maxrss * 1024
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return 0, fmt.Errorf("child %s: bad output %q: %w", args[0], stdout.String(), err)
	}
	return maxRSS, nil
}

// RunDataset measures every system on one prepared dataset: first every
// build, then the warm lookups and scans, one repetition of each system in
// turn (round robin, each repetition in a fresh child), then the cold and
// many-processes figures. Interleaving the repetitions matters on a shared
// machine: the load changes over minutes, and a system measured entirely
// in a quiet (or busy) minute would otherwise carry it into every ratio.
func (o *Options) RunDataset(name, source string, p *Prepared, dir string) results.Dataset {
	ds := results.Dataset{Name: name, Source: source, Lines: p.Lines, Keys: p.Keys,
		RawBytes: p.RawBytes, KeyBytes: p.KeyBytes, ValueBytes: p.ValBytes, SortSeconds: p.SortSec}
	start := loadAvg()
	srs := make([]results.System, len(o.Systems))
	fail := func(i int, err error) {
		srs[i].Error = err.Error()
		o.Logf("%s/%s: ERROR %v", name, o.Systems[i], err)
	}
	for i, sn := range o.Systems {
		srs[i].Name = sn
		if err := o.buildSystem(&srs[i], sn, p, dir); err != nil {
			fail(i, err)
		}
	}
	for i, sn := range o.Systems {
		if srs[i].Error != "" {
			continue
		}
		if err := o.pageCache(&srs[i], sn, p, dir); err != nil {
			fail(i, err)
		}
	}
	qs := make([]QueryOut, len(o.Systems))
	for r := range max(o.Reps, 1) {
		for i, sn := range o.Systems {
			if srs[i].Error != "" || srs[i].BuildOnly {
				continue
			}
			if err := o.queryRep(&qs[i], sn, p, dir, r); err != nil {
				fail(i, err)
			}
		}
	}
	for i, sn := range o.Systems {
		if srs[i].Error != "" || srs[i].BuildOnly {
			continue
		}
		if err := o.afterQueries(&srs[i], &qs[i], sn, p, dir); err != nil {
			fail(i, err)
		}
	}
	ds.Systems = srs
	ds.LoadAvg = start + " → " + loadAvg()
	return ds
}

// loadAvg is the 1-, 5- and 15-minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (o *Options) common(sn string, p *Prepared, dir string) []string {
	return []string{"-sys", sn, "-dir", dir, "-raw", p.Raw, "-sorted", p.Sorted, "-hits", p.Hits, "-misses", p.Misses}
}

// buildSystem builds sn (BuildReps times, each in a fresh child) and
// records build time, peak RSS and size.
func (o *Options) buildSystem(sr *results.System, sn string, p *Prepared, dir string) error {
	sys, err := systems.Lookup(sn)
	if err != nil {
		return err
	}
	args := o.common(sn, p, dir)
	for r := range max(o.BuildReps, 1) {
		var b BuildOut
		if _, err := o.child(&b, append([]string{"build"}, args...)...); err != nil {
			return err
		}
		rss := b.PeakRSS
		sr.BuildSecondsRuns = append(sr.BuildSecondsRuns, b.Seconds)
		sr.BuildPeakRSSRuns = append(sr.BuildPeakRSSRuns, rss)
		o.Logf("%s: build %d: %.2fs, peak RSS %s", sn, r+1, b.Seconds, mib(rss))
	}
	sr.BuildSeconds = Median(sr.BuildSecondsRuns)
	sr.BuildPeakRSS = int64(Median(int64s(sr.BuildPeakRSSRuns)))
	files, err := sys.Files(dir, p.Raw)
	if err != nil {
		return err
	}
	sr.SizeBytes, sr.AllocatedBytes, err = FileSizes(files)
	if err != nil {
		return err
	}
	if p.Keys > 0 {
		sr.BytesPerKey = float64(sr.SizeBytes) / float64(p.Keys)
	}
	sr.BuildOnly = systems.BuildOnly(sys)
	return nil
}

// pageCache records how much of sn's files the page cache holds in 2 MiB
// folios, after re-reading them so with -recache-huge.
func (o *Options) pageCache(sr *results.System, sn string, p *Prepared, dir string) error {
	sys, err := systems.Lookup(sn)
	if err != nil {
		return err
	}
	files, err := sys.Files(dir, p.Raw)
	if err != nil {
		return err
	}
	if o.RecacheHuge {
		sr.HugeShare, err = RecacheHuge(files)
	} else {
		sr.HugeShare, err = HugeShare(files)
	}
	if err != nil {
		return err
	}
	o.Logf("%s: %.0f%% of the files in 2 MiB pages%s", sn, 100*sr.HugeShare, map[bool]string{true: " (re-read)", false: ""}[o.RecacheHuge])
	return nil
}

// queryRep runs repetition r of the warm lookups and scans of sn in a
// fresh child (whose first pass faults its own mappings in and checks
// every answer) and appends its figures to acc.
func (o *Options) queryRep(acc *QueryOut, sn string, p *Prepared, dir string, r int) error {
	var q QueryOut
	if _, err := o.child(&q, append([]string{"query", "-reps", "1", "-limit", strconv.Itoa(o.Queries)}, o.common(sn, p, dir)...)...); err != nil {
		return err
	}
	if q.ScanKeys != int(p.Keys) {
		return fmt.Errorf("scan saw %d keys, want %d", q.ScanKeys, p.Keys)
	}
	if r == 0 {
		acc.OpenSec = q.OpenSec
	}
	acc.HitsPerSec = append(acc.HitsPerSec, q.HitsPerSec...)
	acc.MissPerSec = append(acc.MissPerSec, q.MissPerSec...)
	acc.HitsPerCPU = append(acc.HitsPerCPU, q.HitsPerCPU...)
	acc.MissPerCPU = append(acc.MissPerCPU, q.MissPerCPU...)
	acc.ScanPerCPU = append(acc.ScanPerCPU, q.ScanPerCPU...)
	acc.Hits2PerSec = append(acc.Hits2PerSec, q.Hits2PerSec...)
	acc.ScanPerSec = append(acc.ScanPerSec, q.ScanPerSec...)
	acc.AllocsPerGet = max(acc.AllocsPerGet, q.AllocsPerGet)
	acc.ScanKeys = q.ScanKeys
	o.Logf("%s: rep %d: hits %.0f/s, misses %.0f/s, hits(2 goroutines) %.0f/s, scan %.0f keys/s (load %s)",
		sn, r+1, Median(q.HitsPerSec), Median(q.MissPerSec), Median(q.Hits2PerSec), Median(q.ScanPerSec), loadAvg())
	return nil
}

// afterQueries records the medians of sn's query repetitions q, then
// measures its cold and many-processes figures.
func (o *Options) afterQueries(sr *results.System, q *QueryOut, sn string, p *Prepared, dir string) error {
	sys, err := systems.Lookup(sn)
	if err != nil {
		return err
	}
	args := o.common(sn, p, dir)
	sr.OpenSeconds = q.OpenSec
	sr.HitsPerSec, sr.HitsRuns = Median(q.HitsPerSec), q.HitsPerSec
	sr.MissPerSec, sr.MissRuns = Median(q.MissPerSec), q.MissPerSec
	sr.Hits2PerSec, sr.Hits2Runs = Median(q.Hits2PerSec), q.Hits2PerSec
	sr.ScanPerSec, sr.ScanRuns = Median(q.ScanPerSec), q.ScanPerSec
	sr.HitsPerCPU, sr.MissPerCPU, sr.ScanPerCPU = Median(q.HitsPerCPU), Median(q.MissPerCPU), Median(q.ScanPerCPU)
	sr.AllocsPerGet = q.AllocsPerGet
	o.Logf("%s: open %.3fms, hits %.0f/s (%.0f/cpu-s), misses %.0f/s (%.0f/cpu-s), hits(2 goroutines) %.0f/s, scan %.0f keys/s, %.2f allocs/get",
		sn, q.OpenSec*1e3, sr.HitsPerSec, sr.HitsPerCPU, sr.MissPerSec, sr.MissPerCPU, sr.Hits2PerSec, sr.ScanPerSec, sr.AllocsPerGet)
	files, err := sys.Files(dir, p.Raw)
	if err != nil {
		return err
	}
	if !o.SkipCold {
		if err := o.cold(sr, args, files); err != nil {
			return fmt.Errorf("cold: %w", err)
		}
	}
	if !o.SkipMulti {
		if err := o.multi(sr, args); err != nil {
			return fmt.Errorf("multi: %w", err)
		}
	}
	return nil
}

func (o *Options) cold(sr *results.System, args []string, files []string) error {
	c := &results.Cold{}
	var opens, firsts, res []float64
	for range max(o.Reps, 1) {
		if err := DropCache(files); err != nil {
			return err
		}
		r, err := Resident(files)
		if err != nil {
			return err
		}
		var co ColdOut
		if _, err := o.child(&co, append([]string{"cold", "-count", strconv.Itoa(o.ColdCount),
			"-max-seconds", strconv.FormatFloat(o.ColdMaxSec, 'f', -1, 64)}, args...)...); err != nil {
			return err
		}
		res = append(res, r)
		opens = append(opens, co.OpenSec)
		firsts = append(firsts, co.FirstGetSec)
		c.Lookups = co.Lookups
		c.LookupsPerSecRuns = append(c.LookupsPerSecRuns, float64(co.Lookups)/co.Seconds)
	}
	c.ResidentAfterDrop = Median(res)
	c.OpenSeconds = Median(opens)
	c.FirstGetSeconds = Median(firsts)
	c.LookupsPerSec = Median(c.LookupsPerSecRuns)
	sr.Cold = c
	o.Logf("%s: cold: %.1f%% resident after drop, open %.3fms, first get at %.3fms, %.0f lookups/s over %d lookups (warm %.0f/s)",
		sr.Name, 100*c.ResidentAfterDrop, c.OpenSeconds*1e3, c.FirstGetSeconds*1e3, c.LookupsPerSec, c.Lookups, sr.HitsPerSec)
	return nil
}

// server is one reader process of the many-processes figure.
type server struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	err bytes.Buffer
}

func (s *server) line() (string, error) {
	l, err := s.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reader process %d: %w: %s", s.cmd.Process.Pid, err, strings.TrimSpace(s.err.String()))
	}
	return strings.TrimSpace(l), nil
}

func (o *Options) multi(sr *results.System, args []string) error {
	var perProc int64 // private bytes per process seen at the last count
	for _, n := range o.Procs {
		m := results.Multi{Procs: n}
		if perProc > 0 {
			need := int64(n) * perProc * 5 / 4
			if avail := MemAvailable(); need > avail*3/4 {
				m.Skipped = fmt.Sprintf("needs ~%.1f GiB of private memory, %.1f GiB available", float64(need)/(1<<30), float64(avail)/(1<<30))
				o.Logf("%s: %d processes: skipped: %s", sr.Name, n, m.Skipped)
				sr.Multi = append(sr.Multi, m)
				continue
			}
		}
		if err := o.multiN(&m, args); err != nil {
			return fmt.Errorf("%d processes: %w", n, err)
		}
		perProc = m.PssAnonBytes / int64(n)
		sr.Multi = append(sr.Multi, m)
		o.Logf("%s: %d processes: %.0f lookups/s, PSS %s (anon %s, file %s)", sr.Name, n, m.LookupsPerSec,
			mib(m.PssBytes), mib(m.PssAnonBytes), mib(m.PssFileBytes))
	}
	return nil
}

func (o *Options) multiN(m *results.Multi, args []string) (err error) {
	servers := make([]*server, 0, m.Procs)
	defer func() {
		for _, s := range servers {
			s.in.Close()
			if werr := s.cmd.Wait(); werr != nil && err == nil {
				err = fmt.Errorf("reader process: %w: %s", werr, strings.TrimSpace(s.err.String()))
			}
		}
	}()
	for range m.Procs {
		s := &server{}
		s.cmd = exec.Command(o.Exe, append([]string{"child", "serve", "-limit", strconv.Itoa(o.ServeKeys)}, args...)...)
		s.cmd.Env = append(os.Environ(), ChildEnv+"=1")
		s.cmd.Stderr = &s.err
		var err error
		if s.in, err = s.cmd.StdinPipe(); err != nil {
			return err
		}
		stdout, err := s.cmd.StdoutPipe()
		if err != nil {
			return err
		}
		s.out = bufio.NewReader(stdout)
		if err := s.cmd.Start(); err != nil {
			return err
		}
		servers = append(servers, s)
	}
	for _, s := range servers {
		l, err := s.line()
		if err != nil {
			return err
		}
		if l != "ready" {
			return fmt.Errorf("reader process said %q", l)
		}
	}
	for range max(o.Windows, 1) {
		for _, s := range servers {
			if _, err := fmt.Fprintf(s.in, "run %d\n", o.WindowMS); err != nil {
				return err
			}
		}
		total := 0
		for _, s := range servers {
			l, err := s.line()
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(l)
			if err != nil {
				return fmt.Errorf("reader process said %q", l)
			}
			total += n
		}
		m.WindowRuns = append(m.WindowRuns, float64(total)/(float64(o.WindowMS)/1000))
	}
	m.LookupsPerSec = Median(m.WindowRuns)
	// All readers are alive and warm: read their memory now.
	for _, s := range servers {
		r, err := ReadRollup(s.cmd.Process.Pid)
		if err != nil {
			return err
		}
		m.PssBytes += r.Pss
		m.PssAnonBytes += r.PssAnon
		m.PssFileBytes += r.PssFile
		m.RssBytes += r.Rss
	}
	for _, s := range servers {
		fmt.Fprintln(s.in, "exit")
	}
	return nil
}

func int64s(xs []int64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// EnsureGenerated writes a generated dataset to name unless it exists,
// through a temporary file so an interrupted write is never reused.
func EnsureGenerated(name string, write func(w io.Writer) error) error {
	if _, err := os.Stat(name); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".gen-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
