// Command kvbench measures kvdict against the stores a user would pick
// instead, on a generated dataset and on any real TSV, and writes
// results.json, results.csv, PNG charts and RESULTS.md.
//
//	cd bench
//	go run ./cmd/kvbench -n 1000000 -tsv /path/to/real.tsv -out results/
//	go run ./cmd/kvbench charts -in results/results.json -out results/
//
// Each measurement runs in a child process (this binary re-executed), so
// systems never share a heap or a peak-RSS figure. See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvdict/kvdict/bench/internal/gen"
	"github.com/kvdict/kvdict/bench/internal/harness"
	"github.com/kvdict/kvdict/bench/internal/report"
	"github.com/kvdict/kvdict/bench/internal/results"
	"github.com/kvdict/kvdict/bench/internal/systems"
)

func main() {
	if harness.IsChild() {
		harness.RunChild(os.Args[2:]) // os.Args[1] == "child"
	}
	var err error
	if len(os.Args) > 1 && os.Args[1] == "charts" {
		err = chartsMain(os.Args[2:])
	} else {
		err = Main(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvbench:", err)
		os.Exit(1)
	}
}

func chartsMain(args []string) error {
	fs := flag.NewFlagSet("charts", flag.ContinueOnError)
	in := fs.String("in", "results/results.json", "results file; several, comma-separated, are merged: new datasets are appended, and a system measured again on a known dataset replaces its earlier figures (the first run's header is kept)")
	out := fs.String("out", "results", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var r *results.Run
	for _, name := range splitList(*in) {
		x, err := results.Load(name)
		if err != nil {
			return err
		}
		for i := range x.Datasets {
			if x.Datasets[i].Config == nil {
				x.Datasets[i].Config = &x.Config
			}
		}
		if r == nil {
			r = x
			continue
		}
		r.Command += " ; " + x.Command
		if !strings.Contains(r.Commit, x.Commit) {
			r.Commit += ", " + x.Commit
		}
		first, last, ok := strings.Cut(r.Date, " to ")
		if !ok {
			last = first
		}
		first, last = min(first, x.Date), max(last, x.Date) // RFC 3339 UTC sorts as text
		r.Date = first + " to " + last
		r.Datasets = mergeDatasets(r.Datasets, x.Datasets)
	}
	if r == nil {
		return errors.New("charts: no -in file")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	return writeReport(r, *out)
}

// Main runs the suite with command-line args (also called by the smoke test).
func Main(args []string) error {
	fs := flag.NewFlagSet("kvbench", flag.ContinueOnError)
	n := fs.Int64("n", 1_000_000, "lines in each generated dataset (0: none)")
	keys := fs.String("keys", "url,random", "generated key shapes, comma-separated: url, random")
	dup := fs.Float64("dup", 0.05, "share of generated lines repeating an earlier key")
	seed := fs.Uint64("seed", 1, "generator and query-set seed")
	var tsvs multiFlag
	fs.Var(&tsvs, "tsv", "a real TSV to measure too (key = first column, value = rest); repeatable")
	out := fs.String("out", "results", "directory for results.json, results.csv, charts and RESULTS.md")
	data := fs.String("data", "data", "directory for datasets and built stores (git-ignored; can be large)")
	sysList := fs.String("systems", strings.Join(systems.Names(), ","), "systems to measure, comma-separated")
	queries := fs.Int("queries", 1_000_000, "query keys per set (hits, and as many misses)")
	reps := fs.Int("reps", 5, "repetitions of each lookup, scan and cold measurement (medians are reported)")
	buildReps := fs.Int("build-reps", 3, "build runs per system (median reported)")
	procs := fs.String("procs", "1,2,4,8,32", "reader-process counts for the many-processes figure")
	windows := fs.Int("windows", 3, "measurement windows per process count")
	windowMS := fs.Int("window-ms", 2000, "length of one many-processes window")
	serveKeys := fs.Int("serve-keys", 200_000, "hit keys each reader process cycles through")
	coldCount := fs.Int("cold-count", 20_000, "lookups measured right after dropping the cache")
	coldMax := fs.Float64("cold-max-seconds", 10, "time limit for the cold lookups")
	skipCold := fs.Bool("skip-cold", false, "skip the cold-cache figure")
	skipMulti := fs.Bool("skip-multi", false, "skip the many-processes figure")
	recacheHuge := fs.Bool("recache-huge", false, "before the warm lookups, re-read every store's files into 2 MiB page-cache folios (kvdict's writer leaves its files so; other writers leave 4 KiB folios)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	o := &harness.Options{Exe: exe, DataDir: *data, Systems: splitList(*sysList), Queries: *queries,
		Reps: *reps, BuildReps: *buildReps, Windows: *windows, WindowMS: *windowMS, ServeKeys: *serveKeys,
		ColdCount: *coldCount, ColdMaxSec: *coldMax, SkipCold: *skipCold, SkipMulti: *skipMulti, RecacheHuge: *recacheHuge, Log: os.Stderr}
	for _, s := range o.Systems {
		if _, err := systems.Lookup(s); err != nil {
			return err
		}
	}
	for _, p := range splitList(*procs) {
		v, err := strconv.Atoi(p)
		if err != nil || v < 1 {
			return fmt.Errorf("-procs: bad count %q", p)
		}
		o.Procs = append(o.Procs, v)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if slices.ContainsFunc(o.Systems, func(s string) bool { return strings.HasPrefix(s, "kvbuild") }) {
		bin, err := buildKVBuild(*data)
		if err != nil {
			return err
		}
		os.Setenv(systems.KVBuildEnv, bin) // children inherit it
	}
	run := &results.Run{
		Command: "go run ./cmd/kvbench " + strings.Join(args, " "),
		Commit:  commit(),
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: machine(),
		Config: results.Config{N: *n, Keys: *keys, Dup: *dup, Seed: *seed, Queries: *queries, Reps: *reps,
			BuildReps: *buildReps, Procs: o.Procs, WindowMS: *windowMS, ColdCount: *coldCount, ServeKeys: *serveKeys, Systems: o.Systems},
	}

	type input struct{ name, source, raw string }
	var inputs []input
	if *n > 0 {
		for _, k := range splitList(*keys) {
			kk, err := gen.ParseKeys(k)
			if err != nil {
				return err
			}
			name := fmt.Sprintf("%s-%s", k, si(*n))
			raw := filepath.Join(*data, "gen", fmt.Sprintf("%s-n%d-dup%g-seed%d.tsv", k, *n, *dup, *seed))
			o.Logf("generating %s", raw)
			g := gen.New(gen.Config{N: *n, Keys: kk, Dup: *dup, Seed: *seed})
			if err := harness.EnsureGenerated(raw, g.Write); err != nil {
				return err
			}
			src := fmt.Sprintf("`kvgen -n %d -keys %s -dup %g -seed %d`", *n, k, *dup, *seed)
			inputs = append(inputs, input{name, src, raw})
		}
	}
	for _, t := range tsvs {
		abs, err := filepath.Abs(t)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(filepath.Base(t), filepath.Ext(t))
		inputs = append(inputs, input{base, "`" + filepath.Base(t) + "` (real data)", abs})
	}
	for _, in := range inputs {
		dir := filepath.Join(*data, in.name)
		o.Logf("== %s: preparing sorted stream and query sets in %s", in.name, dir)
		p, err := harness.Prepare(in.raw, dir, *queries, *seed)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		o.Logf("%s: %d lines, %d keys, sort+dedup %.1fs", in.name, p.Lines, p.Keys, p.SortSec)
		ds := o.RunDataset(in.name, in.source, p, dir)
		ds.Config = &run.Config
		run.Datasets = append(run.Datasets, ds)
		// Write after each dataset, so a long run leaves partial results.
		if err := writeReport(run, *out); err != nil {
			return err
		}
	}
	o.Logf("wrote %s", *out)
	for _, d := range run.Datasets {
		for _, s := range d.Systems {
			if s.Error != "" {
				return fmt.Errorf("%s/%s failed: %s", d.Name, s.Name, s.Error)
			}
		}
	}
	return nil
}

func writeReport(r *results.Run, out string) error {
	if err := r.WriteJSON(filepath.Join(out, "results.json")); err != nil {
		return err
	}
	if err := r.WriteCSV(filepath.Join(out, "results.csv")); err != nil {
		return err
	}
	charts, err := report.Charts(r, out)
	if err != nil {
		return err
	}
	// RESULTS.md is merged into docs/BENCHMARKS.md: link from there
	// (out is relative to bench/ when run as the README says).
	prefix := "../bench/" + filepath.ToSlash(filepath.Clean(out)) + "/"
	if filepath.IsAbs(out) {
		prefix = ""
	}
	return report.Markdown(r, charts, filepath.Join(out, "RESULTS.md"), prefix)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func si(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000 && n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return strconv.FormatInt(n, 10)
}

// commit names the kvdict commit measured, with "-dirty" when tracked
// non-test Go files or go.mod/go.sum have uncommitted changes (others'
// edits to tests do not change what is measured).
func commit() string {
	b, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(b))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--",
		":(top,glob)**/*.go", ":(top,exclude,glob)**/*_test.go", ":(top)go.mod", ":(top)go.sum").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "-dirty"
	}
	return c
}

func machine() results.Machine {
	m := results.Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				m.MemBytes = v * 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// buildKVBuild compiles the kvdict module's cmd/kvbuild into data/bin, so
// the CLI measured is the one at the commit under test.
func buildKVBuild(data string) (string, error) {
	root, err := kvdictRoot()
	if err != nil {
		return "", err
	}
	bin, err := filepath.Abs(filepath.Join(data, "bin", "kvbuild"))
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/kvbuild")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building kvbuild in %s: %w: %s", root, err, out)
	}
	return bin, nil
}

// kvdictRoot finds the kvdict module's directory: the nearest parent of the
// working directory whose go.mod declares github.com/kvdict/kvdict.
func kvdictRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.HasPrefix(string(b), "module github.com/kvdict/kvdict\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the kvdict module (run kvbench from inside the repository, e.g. in bench/)")
		}
		dir = parent
	}
}

// mergeDatasets adds b's datasets to a; for a dataset already in a, b's
// systems replace a's systems of the same name (a re-measurement).
func mergeDatasets(a, b []results.Dataset) []results.Dataset {
	for _, db := range b {
		i := slices.IndexFunc(a, func(d results.Dataset) bool { return d.Name == db.Name })
		if i < 0 {
			a = append(a, db)
			continue
		}
		for _, sb := range db.Systems {
			j := slices.IndexFunc(a[i].Systems, func(s results.System) bool { return s.Name == sb.Name })
			if j < 0 {
				a[i].Systems = append(a[i].Systems, sb)
			} else {
				a[i].Systems[j] = sb
			}
			a[i].LoadAvg += "; " + sb.Name + " re-measured in a later run: " + db.LoadAvg
		}
	}
	return a
}
