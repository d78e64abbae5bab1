// Package report turns a results.Run into PNG charts and the markdown
// fragment RESULTS.md.
//
// Charts are drawn with gonum.org/v1/plot (pure Go, fonts embedded): no
// gnuplot, Python or browser on the machine or in CI, and the PNGs are a
// pure function of results.json, so `kvbench charts` can redraw them.
package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kvdict/kvdict/bench/internal/results"
)

// One colour per system, the same in every chart.
var palette = map[string]color.Color{
	"kvdict":  color.RGBA{0xd6, 0x27, 0x28, 0xff}, // red: ours
	"kvbuild": color.RGBA{0x94, 0x67, 0xbd, 0xff}, // purple: ours, from the unsorted TSV
	"gomap":   color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, // grey: the baseline
	"bbolt":   color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	"lmdb":    color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	"tinycdb": color.RGBA{0xff, 0x7f, 0x0e, 0xff},
}

func colorOf(name string, i int) color.Color {
	if c, ok := palette[name]; ok {
		return c
	}
	return plotutil.Color(i + 5)
}

// Chart is one written PNG.
type Chart struct {
	File  string // base name inside the output directory
	Title string
}

// Charts draws every chart of r into dir and returns them in order.
func Charts(r *results.Run, dir string) ([]Chart, error) {
	var out []Chart
	add := func(file, title string, p *plot.Plot, err error) error {
		if err != nil {
			return fmt.Errorf("report: %s: %w", file, err)
		}
		if p == nil {
			return nil
		}
		// Wider charts for many groups, so bars and labels never overlap.
		w := max(8, 1.15*float64(len(p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max))))
		if _, ok := p.X.Tick.Marker.(procTicks); ok {
			w = 8
		}
		if err := p.Save(vg.Length(w)*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, file)); err != nil {
			return err
		}
		out = append(out, Chart{file, title})
		return nil
	}
	ok := func(s results.System) bool { return s.Error == "" }
	type metric struct {
		file, title, ylabel string
		log                 bool
		v                   func(d results.Dataset, s results.System) float64
	}
	for _, m := range []metric{
		{"build_seconds.png", "Build time (from the sorted, de-duplicated stream; Go map: load the TSV)", "seconds", false,
			func(d results.Dataset, s results.System) float64 { return s.BuildSeconds }},
		{"build_peak_rss.png", "Peak RSS while building (separate process each)", "MiB", false,
			func(d results.Dataset, s results.System) float64 { return float64(s.BuildPeakRSS) / (1 << 20) }},
		{"size_per_key.png", "Size on disk per key (Go map: the TSV it loads)", "bytes per key", false,
			func(d results.Dataset, s results.System) float64 { return s.BytesPerKey }},
		{"lookups_hits.png", "Warm lookups of present keys, 1 goroutine", "lookups/s (log)", true,
			func(d results.Dataset, s results.System) float64 { return s.HitsPerSec }},
		{"lookups_misses.png", "Warm lookups of absent keys, 1 goroutine", "lookups/s (log)", true,
			func(d results.Dataset, s results.System) float64 { return s.MissPerSec }},
		{"scan.png", "Full scan (each system's own order)", "keys/s (log)", true,
			func(d results.Dataset, s results.System) float64 { return s.ScanPerSec }},
	} {
		p, err := groupedBars(r, m.title, m.ylabel, m.log, func(d results.Dataset, s results.System) (float64, bool) {
			return m.v(d, s), ok(s)
		})
		if err := add(m.file, m.title, p, err); err != nil {
			return nil, err
		}
	}
	p, err := coldChart(r)
	if err := add("cold_vs_warm.png", "Lookups/s right after dropping the store's pages from the page cache, against warm", p, err); err != nil {
		return nil, err
	}
	for _, d := range r.Datasets {
		p, err := multiChart(d, false)
		if err := add("multi_lookups_"+d.Name+".png", "Many processes, one copy: aggregate lookups/s ("+d.Name+")", p, err); err != nil {
			return nil, err
		}
		p, err = multiChart(d, true)
		if err := add("multi_pss_"+d.Name+".png", "Many processes, one copy: sum of PSS against size on disk ("+d.Name+")", p, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// systemsOf lists the systems in the order they first appear.
func systemsOf(r *results.Run) []string {
	var names []string
	seen := map[string]bool{}
	for _, d := range r.Datasets {
		for _, s := range d.Systems {
			if !seen[s.Name] {
				seen[s.Name] = true
				names = append(names, s.Name)
			}
		}
	}
	return names
}

func find(d results.Dataset, name string) (results.System, bool) {
	for _, s := range d.Systems {
		if s.Name == name {
			return s, true
		}
	}
	return results.System{}, false
}

// logTicks labels a log10-transformed axis with 1, 10, 100, 1k, ... .
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(min); e <= math.Ceil(max); e++ {
		ts = append(ts, plot.Tick{Value: e, Label: si(math.Pow(10, e))})
		for _, m := range []float64{2, 5} {
			if v := e + math.Log10(m); v <= max {
				t := plot.Tick{Value: v}
				if max-min < 2.5 {
					t.Label = si(math.Pow(10, v))
				}
				ts = append(ts, t)
			}
		}
	}
	return ts
}

// si formats v with a k/M/G suffix.
func si(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	return p
}

// groupedBars draws one group per dataset and one bar per system. With
// logY the bars show log10 of the value (bars start at 1).
func groupedBars(r *results.Run, title, ylabel string, logY bool, v func(results.Dataset, results.System) (float64, bool)) (*plot.Plot, error) {
	if len(r.Datasets) == 0 {
		return nil, nil
	}
	p := newPlot(title, ylabel)
	names := systemsOf(r)
	var groups []string
	for _, d := range r.Datasets {
		groups = append(groups, d.Name)
	}
	w := barWidth(len(groups), len(names))
	ymax := 0.0
	for i, name := range names {
		any := false
		for _, d := range r.Datasets {
			if s, found := find(d, name); found {
				if x, good := v(d, s); good && x > 0 {
					any = true
				}
			}
		}
		if !any {
			continue // e.g. kvbuild in the lookup charts
		}
		vals := make(plotter.Values, len(r.Datasets))
		for j, d := range r.Datasets {
			s, found := find(d, name)
			x, good := 0.0, false
			if found {
				x, good = v(d, s)
			}
			if good && logY {
				x = math.Log10(math.Max(x, 1))
			}
			if !good {
				x = 0
			}
			vals[j] = x
			ymax = math.Max(ymax, x)
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color = colorOf(name, i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(len(names)-1)/2)
		p.Add(b)
		p.Legend.Add(name, b)
	}
	p.NominalX(groups...)
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	p.Y.Min = 0
	p.Y.Max = ymax * 1.35 // room for the legend
	p.Y.Tick.Marker = siTicks{}
	if logY {
		p.Y.Max = ymax + 1.2 // a decade of headroom for the legend
		p.Y.Tick.Marker = logTicks{}
	}
	return p, nil
}

func coldChart(r *results.Run) (*plot.Plot, error) {
	any := false
	for _, d := range r.Datasets {
		for _, s := range d.Systems {
			any = any || s.Cold != nil
		}
	}
	if !any {
		return nil, nil
	}
	// Groups: (dataset, warm|cold); bars: systems; log scale.
	var groups []string
	type key struct {
		d    int
		cold bool
	}
	var keys []key
	for i, d := range r.Datasets {
		groups = append(groups, d.Name+"\nwarm", d.Name+"\ncold")
		keys = append(keys, key{i, false}, key{i, true})
	}
	p := newPlot("Cold cache (pages dropped with fadvise DONTNEED) against warm", "lookups/s (log)")
	names := systemsOf(r)
	w := barWidth(len(groups), len(names))
	ymax := 0.0
	for i, name := range names {
		if s, found := find(r.Datasets[0], name); found && s.BuildOnly {
			continue
		}
		vals := make(plotter.Values, len(keys))
		for j, k := range keys {
			s, found := find(r.Datasets[k.d], name)
			x := 0.0
			if found && s.Error == "" {
				if k.cold {
					if s.Cold != nil {
						x = s.Cold.LookupsPerSec
					}
				} else {
					x = s.HitsPerSec
				}
			}
			vals[j] = math.Log10(math.Max(x, 1))
			ymax = math.Max(ymax, vals[j])
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color = colorOf(name, i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(len(names)-1)/2)
		p.Add(b)
		p.Legend.Add(name, b)
	}
	p.NominalX(groups...)
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	p.Y.Min, p.Y.Max = 0, ymax+1.2
	p.Y.Tick.Marker = logTicks{}
	return p, nil
}

// barWidth fits groups of n bars, one bar's gap between groups, into the
// plotting width of a chart drawn at max(8, 1.15 × groups) inches.
func barWidth(groups, n int) vg.Length {
	width := max(8, 1.15*float64(groups))*72 - 80 // points, less the axis
	return vg.Points(min(18, width/float64(groups*(n+1))))
}

// procTicks marks the measured process counts on a log2 axis.
type procTicks []int

func (t procTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for _, n := range t {
		ts = append(ts, plot.Tick{Value: math.Log2(float64(n)), Label: strconv.Itoa(n)})
	}
	return ts
}

func multiChart(d results.Dataset, pss bool) (*plot.Plot, error) {
	var procs []int
	seen := map[int]bool{}
	anyPoint := false
	for _, s := range d.Systems {
		for _, m := range s.Multi {
			if !seen[m.Procs] {
				seen[m.Procs] = true
				procs = append(procs, m.Procs)
			}
			anyPoint = anyPoint || m.Skipped == ""
		}
	}
	if !anyPoint {
		return nil, nil
	}
	title := "Many processes, one copy: aggregate lookups/s (" + d.Name + ")"
	ylabel := "lookups/s, all processes"
	if pss {
		title = "Sum of PSS of N readers (solid) against size on disk (dashed), " + d.Name
		ylabel = "MiB (log)"
	}
	p := newPlot(title, ylabel)
	p.Legend.Left = true
	p.X.Label.Text = "reader processes"
	p.X.Tick.Marker = procTicks(procs)
	for i, s := range d.Systems {
		if s.Error != "" {
			continue
		}
		var xy plotter.XYs
		for _, m := range s.Multi {
			if m.Skipped != "" {
				continue
			}
			y := m.LookupsPerSec
			if pss {
				y = math.Log10(float64(m.PssBytes) / (1 << 20))
			}
			xy = append(xy, plotter.XY{X: math.Log2(float64(m.Procs)), Y: y})
		}
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		c := colorOf(s.Name, i)
		l.Color, pts.Color = c, c
		l.Width = vg.Points(2)
		pts.Shape = draw.CircleGlyph{}
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
		if pss && s.SizeBytes > 0 {
			y := math.Log10(float64(s.SizeBytes) / (1 << 20))
			lo, hi := math.Log2(float64(procs[0])), math.Log2(float64(procs[len(procs)-1]))
			ref, err := plotter.NewLine(plotter.XYs{{X: lo, Y: y}, {X: hi, Y: y}})
			if err != nil {
				return nil, err
			}
			ref.Color = c
			ref.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(ref)
		}
	}
	if pss {
		p.Y.Tick.Marker = logTicks{}
	} else {
		p.Y.Min = 0
		p.Y.Tick.Marker = siTicks{}
	}
	return p, nil
}

// siTicks are about five evenly spaced ticks at 1, 2 or 5 × 10^k,
// labelled with k/M suffixes.
type siTicks struct{}

func (siTicks) Ticks(min, max float64) []plot.Tick {
	if max <= min {
		return nil
	}
	raw := (max - min) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: si(v)})
	}
	return ts
}
