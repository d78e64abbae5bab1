package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/bench/internal/harness"
	"github.com/kvdict/kvdict/bench/internal/results"
	"github.com/kvdict/kvdict/bench/internal/systems"
)

// The suite re-executes its own binary for every measurement; under `go
// test` that binary is the test binary, so children are dispatched here.
func TestMain(m *testing.M) {
	if harness.IsChild() {
		harness.RunChild(os.Args[2:])
	}
	os.Exit(m.Run())
}

// Ensure the whole suite runs end to end at a tiny size: every system
// builds, answers every hit and miss correctly (the query child checks the
// values), scans every key, and the results, charts and RESULTS.md appear.
// This is CI's check that the suite still compiles and runs.
func TestSuite_Smoke(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	t.Setenv("KVBENCH_BATCH", "100") // bbolt and LMDB cross write transactions
	// A small real-looking TSV: CRLF, TABs inside values, an empty line,
	// duplicates (the later line wins).
	tsv := filepath.Join(dir, "real.tsv")
	if err := os.WriteFile(tsv, []byte("b\tsecond\r\na\tfirst\tcol3\n\nc\t\nb\tlater\nd\tx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Main([]string{"-n", "1000", "-tsv", tsv, "-out", out, "-data", filepath.Join(dir, "data"),
		"-queries", "300", "-reps", "2", "-build-reps", "1", "-procs", "1,2", "-windows", "1",
		"-window-ms", "50", "-serve-keys", "100", "-cold-count", "100"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := results.Load(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Datasets) != 3 {
		t.Fatalf("%d datasets, want url, random and the TSV", len(r.Datasets))
	}
	for _, d := range r.Datasets {
		if len(d.Systems) != len(systems.Names()) {
			t.Errorf("%s: %d systems, want %d", d.Name, len(d.Systems), len(systems.Names()))
		}
		for _, s := range d.Systems {
			if s.Error != "" {
				t.Errorf("%s/%s: %s", d.Name, s.Name, s.Error)
			}
			if s.BuildOnly {
				if s.SizeBytes <= 0 || s.BuildSeconds <= 0 {
					t.Errorf("%s/%s: missing figures: %+v", d.Name, s.Name, s)
				}
				continue
			}
			if s.HitsPerSec <= 0 || s.SizeBytes <= 0 || s.Cold == nil || len(s.Multi) != 2 || len(s.HitsRuns) != 2 {
				t.Errorf("%s/%s: missing figures: %+v", d.Name, s.Name, s)
			}
		}
	}
	if d := r.Datasets[2]; d.Keys != 4 || d.Lines != 5 {
		t.Errorf("real.tsv: %d keys from %d lines, want 4 from 5", d.Keys, d.Lines)
	}
	for _, f := range []string{"results.csv", "RESULTS.md", "lookups_hits.png", "cold_vs_warm.png", "multi_pss_url-1k.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
}
