// Package results is the machine-readable outcome of one kvbench run
// (results.json), and its flat form (results.csv: one figure per row).
package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// Run is one invocation of kvbench.
type Run struct {
	Command  string    `json:"command"`
	Commit   string    `json:"commit"`
	Date     string    `json:"date"` // RFC 3339, UTC
	Machine  Machine   `json:"machine"`
	Config   Config    `json:"config"`
	Datasets []Dataset `json:"datasets"`
}

// Machine describes where it ran.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	MemBytes  int64  `json:"mem_bytes"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	Disk      string `json:"disk,omitempty"`
}

// Config records the run's knobs.
type Config struct {
	N         int64    `json:"n"`
	Keys      string   `json:"keys"`
	Dup       float64  `json:"dup"`
	Seed      uint64   `json:"seed"`
	Queries   int      `json:"queries"`
	Reps      int      `json:"reps"`
	BuildReps int      `json:"build_reps"`
	Procs     []int    `json:"procs"`
	WindowMS  int      `json:"window_ms"`
	ColdCount int      `json:"cold_count"`
	ServeKeys int      `json:"serve_keys,omitempty"` // keys each many-processes reader cycles through
	Systems   []string `json:"systems"`
}

// Dataset is one input (generated or real TSV) and every system's figures.
type Dataset struct {
	Name        string  `json:"name"`
	Source      string  `json:"source"`
	Lines       int64   `json:"lines"`
	Keys        int64   `json:"keys"`
	RawBytes    int64   `json:"raw_bytes"`
	KeyBytes    int64   `json:"key_bytes"`
	ValueBytes  int64   `json:"value_bytes"`
	SortSeconds float64 `json:"prep_sort_seconds"`
	// Config is the configuration of the run that measured this dataset
	// (runs merged by 'kvbench charts' may differ).
	Config  *Config  `json:"config,omitempty"`
	LoadAvg string   `json:"loadavg"` // /proc/loadavg at the dataset's start and end: how busy the shared machine was
	Systems []System `json:"systems"`
}

// System holds one system's figures on one dataset. Rates are medians of
// the repetitions, whose raw values are kept beside them.
type System struct {
	Name  string `json:"name"`
	Error string `json:"error,omitempty"`
	// BuildOnly systems are measured for build time, peak RSS and size
	// only (kvbuild: its lookups are kvdict's).
	BuildOnly bool `json:"build_only,omitempty"`

	BuildSeconds     float64   `json:"build_seconds"`
	BuildSecondsRuns []float64 `json:"build_seconds_runs"`
	BuildPeakRSS     int64     `json:"build_peak_rss_bytes"` // median of runs
	BuildPeakRSSRuns []int64   `json:"build_peak_rss_runs"`

	SizeBytes      int64   `json:"size_bytes"`
	AllocatedBytes int64   `json:"allocated_bytes"`
	BytesPerKey    float64 `json:"bytes_per_key"`

	OpenSeconds float64 `json:"open_seconds"`
	// HugeShare is the share of the store's file bytes that the page cache
	// held in 2 MiB folios (mapped with 2 MiB pages) for the warm lookups.
	HugeShare   float64 `json:"page_cache_huge_share"`
	HitsPerSec  float64 `json:"hits_per_sec"`
	MissPerSec  float64 `json:"misses_per_sec"`
	Hits2PerSec float64 `json:"hits_per_sec_2_goroutines"`
	ScanPerSec  float64 `json:"scan_keys_per_sec"`
	// Per CPU-second of the measuring thread (medians): robust to other
	// processes taking the CPU, not to them taking the caches.
	HitsPerCPU   float64   `json:"hits_per_cpu_sec"`
	MissPerCPU   float64   `json:"misses_per_cpu_sec"`
	ScanPerCPU   float64   `json:"scan_keys_per_cpu_sec"`
	AllocsPerGet float64   `json:"allocs_per_get"`
	HitsRuns     []float64 `json:"hits_per_sec_runs,omitempty"`
	MissRuns     []float64 `json:"misses_per_sec_runs,omitempty"`
	Hits2Runs    []float64 `json:"hits_per_sec_2_goroutines_runs,omitempty"`
	ScanRuns     []float64 `json:"scan_keys_per_sec_runs,omitempty"`

	Cold  *Cold   `json:"cold,omitempty"`
	Multi []Multi `json:"multi,omitempty"`
}

// Cold is lookups right after the store's files were dropped from the page
// cache (medians of runs).
type Cold struct {
	ResidentAfterDrop float64   `json:"resident_after_drop"` // share of pages still cached
	OpenSeconds       float64   `json:"open_seconds"`
	FirstGetSeconds   float64   `json:"first_get_seconds"` // open + first lookup
	LookupsPerSec     float64   `json:"lookups_per_sec"`
	Lookups           int       `json:"lookups"`
	LookupsPerSecRuns []float64 `json:"lookups_per_sec_runs"`
}

// Multi is N reader processes on one copy of the store.
type Multi struct {
	Procs         int       `json:"procs"`
	Skipped       string    `json:"skipped,omitempty"`
	LookupsPerSec float64   `json:"lookups_per_sec"` // aggregate, median of windows
	WindowRuns    []float64 `json:"lookups_per_sec_runs,omitempty"`
	PssBytes      int64     `json:"pss_bytes"` // sum over the N processes
	PssAnonBytes  int64     `json:"pss_anon_bytes"`
	PssFileBytes  int64     `json:"pss_file_bytes"`
	RssBytes      int64     `json:"rss_bytes"`
}

// Load reads a results.json.
func Load(name string) (*Run, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("results: %s: %w", name, err)
	}
	return &r, nil
}

// WriteJSON writes r as indented JSON.
func (r *Run) WriteJSON(name string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(b, '\n'), 0o644)
}

// WriteCSV writes one row per figure: dataset,system,metric,procs,value.
func (r *Run) WriteCSV(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"dataset", "system", "metric", "procs", "value"})
	ff := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, d := range r.Datasets {
		for _, s := range d.Systems {
			row := func(metric string, v string) { w.Write([]string{d.Name, s.Name, metric, "", v}) }
			if s.Error != "" {
				row("error", s.Error)
				continue
			}
			row("build_seconds", ff(s.BuildSeconds))
			row("build_peak_rss_bytes", strconv.FormatInt(s.BuildPeakRSS, 10))
			row("size_bytes", strconv.FormatInt(s.SizeBytes, 10))
			row("bytes_per_key", ff(s.BytesPerKey))
			if s.BuildOnly {
				continue
			}
			row("open_seconds", ff(s.OpenSeconds))
			row("hits_per_sec", ff(s.HitsPerSec))
			row("misses_per_sec", ff(s.MissPerSec))
			row("hits_per_sec_2_goroutines", ff(s.Hits2PerSec))
			row("hits_per_cpu_sec", ff(s.HitsPerCPU))
			row("misses_per_cpu_sec", ff(s.MissPerCPU))
			row("scan_keys_per_cpu_sec", ff(s.ScanPerCPU))
			row("allocs_per_get", ff(s.AllocsPerGet))
			row("scan_keys_per_sec", ff(s.ScanPerSec))
			if c := s.Cold; c != nil {
				row("cold_resident_after_drop", ff(c.ResidentAfterDrop))
				row("cold_open_seconds", ff(c.OpenSeconds))
				row("cold_first_get_seconds", ff(c.FirstGetSeconds))
				row("cold_lookups_per_sec", ff(c.LookupsPerSec))
			}
			for _, m := range s.Multi {
				p := strconv.Itoa(m.Procs)
				if m.Skipped != "" {
					w.Write([]string{d.Name, s.Name, "multi_skipped", p, m.Skipped})
					continue
				}
				w.Write([]string{d.Name, s.Name, "multi_lookups_per_sec", p, ff(m.LookupsPerSec)})
				w.Write([]string{d.Name, s.Name, "multi_pss_bytes", p, strconv.FormatInt(m.PssBytes, 10)})
				w.Write([]string{d.Name, s.Name, "multi_pss_anon_bytes", p, strconv.FormatInt(m.PssAnonBytes, 10)})
				w.Write([]string{d.Name, s.Name, "multi_pss_file_bytes", p, strconv.FormatInt(m.PssFileBytes, 10)})
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
