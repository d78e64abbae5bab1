// Command kvbillion is the scale benchmark of kvbuild: it generates N
// distinct keys on the fly (default one billion) into `kvbuild -`, then
// opens the dictionary and measures cold and warm Get, and runs `kvlookup
// verify`. It is never run by CI (it needs about 30 minutes and, at 1e9
// keys, about 60 GB of free disk); see bench/README.md, "A billion keys".
//
//	go build -o /tmp/kvbuild ./cmd/kvbuild && go build -o /tmp/kvlookup ./cmd/kvlookup
//	cd bench && flock /work/bench.lock nice go run ./cmd/kvbillion \
//	    -kvbuild /tmp/kvbuild -kvlookup /tmp/kvlookup -dir /big/disk -memory 4G
//
// Keys are 16 lowercase hex characters: the splitmix64 finalizer, a
// bijection on uint64, applied to 0..N-1, so every key is distinct and the
// input is in no useful order. Values are the decimal line number modulo
// 1e6 (1-6 bytes). Input bytes: about 24 per key. The dictionary's bytes per
// key, the peak RSS against --memory and the disk taken by the run files are
// what the run is for.
//
// It prints a Markdown block for docs/BENCHMARKS.md.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kvdict/kvdict/bench/internal/harness"
	"github.com/kvdict/kvdict/reader"
)

func main() {
	n := flag.Int64("n", 1_000_000_000, "distinct keys to generate")
	kvbuild := flag.String("kvbuild", "kvbuild", "the kvbuild binary")
	kvlookup := flag.String("kvlookup", "kvlookup", "the kvlookup binary")
	dir := flag.String("dir", os.TempDir(), "where the dictionary and the run files go")
	memory := flag.String("memory", "4G", "kvbuild --memory")
	threads := flag.Int("threads", 0, "kvbuild --threads (0: its default, all cores)")
	queries := flag.Int("queries", 100_000, "random present keys for the Get measurements (as many absent ones are checked)")
	keep := flag.Bool("keep", false, "keep the dictionary")
	flag.Parse()
	if err := run(*n, *kvbuild, *kvlookup, *dir, *memory, *threads, *queries, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "kvbillion:", err)
		os.Exit(1)
	}
}

// key is the i-th key: 16 hex characters of splitmix64's finalizer of i.
func key(dst []byte, i uint64) []byte {
	z := i + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	const hex = "0123456789abcdef"
	for s := 60; s >= 0; s -= 4 {
		dst = append(dst, hex[z>>uint(s)&15])
	}
	return dst
}

func value(dst []byte, i uint64) []byte { return strconv.AppendUint(dst, i%1_000_000, 10) }

func run(n int64, kvbuild, kvlookup, dir, memory string, threads, queries int, keep bool) error {
	out := filepath.Join(dir, "billion.kvd")
	tmp := filepath.Join(dir, "billion-tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if !keep {
		defer os.RemoveAll(out)
	}
	args := []string{"--force", "--memory", memory, "--tmp-dir", tmp, "-o", out, "-"}
	if threads > 0 {
		args = append([]string{"--threads", strconv.Itoa(threads)}, args...)
	}
	cmd := exec.Command(kvbuild, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}

	// The peak disk use of the run files and the dictionary being written.
	var peakTmp, peakAll atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			t, o := du(tmp), du(dir)
			peakTmp.Store(max(peakTmp.Load(), t))
			peakAll.Store(max(peakAll.Load(), o))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Second):
			}
		}
	}()

	w := bufio.NewWriterSize(stdin, 1<<20)
	var line []byte
	var genErr error
	for i := range uint64(n) {
		line = key(line[:0], i)
		line = append(line, '\t')
		line = value(line, i)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			genErr = err
			break
		}
	}
	if genErr == nil {
		genErr = w.Flush()
	}
	stdin.Close()
	werr := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	if werr != nil || genErr != nil {
		return fmt.Errorf("kvbuild: %v (generator: %v): %s", werr, genErr, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	rss := ru.Maxrss << 10
	dictBytes := du(out)
	summary := stderr.String()

	// Lookups: cold (page cache dropped), then warm.
	files, err := dataFiles(out)
	if err != nil {
		return err
	}
	if err := harness.DropCache(files); err != nil {
		return err
	}
	d, err := reader.Open(out, nil)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, queries)
	idx := make([]uint64, queries)
	for q := range keys {
		idx[q] = r.Uint64N(uint64(n))
		keys[q] = key(nil, idx[q])
	}
	cold := make([]time.Duration, 0, min(queries, 10_000))
	f0 := faults()
	for q := range cap(cold) {
		t := time.Now()
		v, err := d.Get(keys[q])
		cold = append(cold, time.Since(t))
		if err != nil || string(v) != string(value(nil, idx[q])) {
			return fmt.Errorf("Get(%s) = %q, %v; want %s", keys[q], v, err, value(nil, idx[q]))
		}
	}
	coldFaults := faults().sub(f0)
	for _, k := range keys { // warm the pages the queries touch
		d.Get(k)
	}
	f1 := faults()
	t := time.Now()
	for _, k := range keys {
		if _, err := d.Get(k); err != nil {
			return err
		}
	}
	warm := time.Since(t) / time.Duration(queries)
	warmFaults := faults().sub(f1)
	absent := 0
	for q := range queries {
		if _, err := d.Get(key(nil, uint64(n)+uint64(q))); !errors.Is(err, reader.ErrNotFound) {
			return fmt.Errorf("absent key %d: %v, want ErrNotFound", q, err)
		}
		absent++
	}
	nkeys := d.Len()
	d.Close()

	vstart := time.Now()
	vout, verr := exec.Command(kvlookup, "verify", out).CombinedOutput()
	vtime := time.Since(vstart)
	verdict := "passed"
	if verr != nil {
		verdict = fmt.Sprintf("FAILED: %v: %s", verr, vout)
	}

	slices.Sort(cold)
	host, _ := os.Hostname()
	fmt.Printf("kvbillion: %d keys, %s, %d cores, load %s\n\n", n, host, runtime.NumCPU(), loadavg())
	fmt.Printf("| figure | value |\n|---|---|\n")
	fmt.Printf("| keys in the dictionary | %d (of %d generated) |\n", nkeys, n)
	fmt.Printf("| input (generated, 16-byte keys) | %s |\n", size(n*24))
	fmt.Printf("| kvbuild wall | %s |\n", wall.Round(time.Second))
	fmt.Printf("| kvbuild CPU (user+sys) | %s |\n", cpu.Round(time.Second))
	fmt.Printf("| kvbuild peak RSS | %s (--memory %s) |\n", size(rss), memory)
	fmt.Printf("| run files, peak | %s |\n", size(peakTmp.Load()))
	fmt.Printf("| disk in -dir, peak (runs + dictionary being written) | %s |\n", size(peakAll.Load()))
	fmt.Printf("| dictionary | %s, %.2f bytes/key |\n", size(dictBytes), float64(dictBytes)/float64(n))
	fmt.Printf("| cold Get (page cache dropped), first %d | median %s, p99 %s |\n", len(cold), cold[len(cold)/2], cold[len(cold)*99/100])
	fmt.Printf("| page faults in those cold Gets (major, minor) | %d, %d |\n", coldFaults.major, coldFaults.minor)
	fmt.Printf("| warm Get, %d random keys, second pass | %s per Get |\n", queries, warm)
	fmt.Printf("| page faults in the warm pass (major, minor) | %d, %d |\n", warmFaults.major, warmFaults.minor)
	fmt.Printf("| absent keys checked | %d, all ErrNotFound |\n", absent)
	fmt.Printf("| kvlookup verify | %s in %s |\n", verdict, vtime.Round(time.Second))
	fmt.Printf("\nkvbuild's summary: %s\n", strings.TrimSpace(lastLine(summary)))
	return nil
}

func dataFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files, nil
}

// du is the allocated size of everything under dir.
func du(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if _, alloc, err := harness.FileSizes([]string{p}); err == nil {
				n += alloc
			}
		}
		return nil
	})
	return n
}

func size(n int64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

var summaryRE = regexp.MustCompile(`kvbuild: wrote .*`)

func lastLine(s string) string {
	if m := summaryRE.FindString(s); m != "" {
		return m
	}
	return s
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// pageFaults counts this process's page faults (getrusage).
type pageFaults struct{ major, minor int64 }

// faults returns the page faults so far: a "warm" Get that faults is
// reading the disk or mapping a page, not walking memory.
func faults() pageFaults {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return pageFaults{}
	}
	return pageFaults{major: ru.Majflt, minor: ru.Minflt}
}

func (a pageFaults) sub(b pageFaults) pageFaults {
	return pageFaults{major: a.major - b.major, minor: a.minor - b.minor}
}
