package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/extsort"
)

// progressBar redraws one status line on a terminal.
type progressBar struct {
	w     io.Writer
	p     *extsort.Progress
	sp    *builder.SortProgress
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup

	mergeT0 float64 // elapsed seconds when the merge phase was first seen
}

func startProgress(w io.Writer, p *extsort.Progress, sp *builder.SortProgress, start time.Time) *progressBar {
	b := &progressBar{w: w, p: p, sp: sp, start: start, done: make(chan struct{})}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.done:
				fmt.Fprint(b.w, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprint(b.w, "\r\033[K"+b.line())
			}
		}
	}()
	return b
}

func (b *progressBar) stop() {
	if b == nil {
		return
	}
	close(b.done)
	b.wg.Wait()
}

func (b *progressBar) line() string {
	el := time.Since(b.start).Seconds()
	switch b.sp.Phase() {
	case builder.PhaseMerge:
		done, total := b.sp.Merged.Load(), b.sp.TotalRecords.Load()
		s := fmt.Sprintf("kvbuild: merging  %s/%s records", count(done), count(total))
		return s + eta(float64(done), float64(total), b.mergeStart(el))
	default:
		bytes, total, lines := b.p.Bytes.Load(), b.p.TotalBytes.Load(), b.p.Lines.Load()
		s := fmt.Sprintf("kvbuild: reading  %s lines  %s", count(lines), formatBytes(bytes))
		if total > 0 {
			s += " / " + formatBytes(total)
		}
		if el > 0 {
			s += fmt.Sprintf("  %s/s", formatBytes(int64(float64(bytes)/el)))
		}
		if total > 0 {
			s += eta(float64(bytes), float64(total), el)
		}
		return s
	}
}

// mergeStart returns the seconds spent in the merge phase so far.
func (b *progressBar) mergeStart(el float64) float64 {
	if b.mergeT0 == 0 {
		b.mergeT0 = el
	}
	return el - b.mergeT0
}

func eta(done, total, secs float64) string {
	if done <= 0 || total <= 0 || secs <= 0 || done > total {
		return ""
	}
	left := (total - done) / (done / secs)
	return fmt.Sprintf("  %3.0f%%  ETA %s", 100*done/total, time.Duration(left*float64(time.Second)).Round(time.Second))
}

func count(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
