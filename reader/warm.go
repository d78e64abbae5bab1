package reader

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/internal/mmapfile"
)

// WarmOptions configure Warm. A nil *WarmOptions means the defaults.
type WarmOptions struct {
	// IndexOnly warms the FST files and hash indexes only: the structures
	// every lookup walks, a small part of a dictionary whose values are
	// large. For a dictionary larger than RAM, warm these and let each
	// lookup read its value from disk (open with AdviceRandom).
	IndexOnly bool
	// Threads is how many files are read at once. Default
	// runtime.GOMAXPROCS(0); several requests in flight help SSDs.
	Threads int
	// Progress, if set, is increased by the bytes read, as they are read.
	Progress *atomic.Int64
}

// warmStep is how much of a file is requested (MADV_WILLNEED) ahead of the
// pages being touched.
const warmStep = 8 << 20

// Warm reads the dictionary's files into the page cache, so that the first
// lookups of every process that opens it are served from RAM instead of
// one disk read each. The page cache is shared: one Warm (kvlookup warm)
// serves every reader on the machine, until memory pressure evicts the
// pages. It asks the kernel for each file in large sequential chunks
// (MADV_WILLNEED) and touches every page, so it returns when everything
// is resident, and reports the bytes warmed. It takes about as long as
// reading the files from disk.
//
// Pages read by Warm are cached in 2 MiB folios where the kernel supports
// it (MADV_HUGEPAGE on the files it warms; Linux 6.x on ext4 or xfs), so
// that every process mapping the dictionary afterwards maps them with 2
// MiB pages, as it does the files of a fresh kvbuild (see
// internal/frame.DefaultBufSize). Pages already cached keep their size.
func (d *Dict) Warm(opts *WarmOptions) (int64, error) {
	if d.closed.Load() {
		return 0, ErrClosed
	}
	var o WarmOptions
	if opts != nil {
		o = *opts
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.Progress == nil {
		o.Progress = new(atomic.Int64)
	}
	var files []*mmapfile.File
	for i := range d.parts {
		p := &d.parts[i]
		files = append(files, p.fstFile)
		if p.topFile != nil {
			files = append(files, p.topFile)
		}
		if p.hixFile != nil {
			files = append(files, p.hixFile)
		}
		if !o.IndexOnly {
			files = append(files, p.logFile)
		}
	}
	var total atomic.Int64
	errs := make([]error, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(o.Threads, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(files); i = int(next.Add(1) - 1) {
				errs[i] = warmFile(files[i].Data, o.Progress)
				total.Add(int64(len(files[i].Data)))
			}
		}()
	}
	wg.Wait()
	return total.Load(), errors.Join(errs...)
}

// sink keeps the compiler from dropping the page touches.
var sink atomic.Uint32

// warmFile pulls data into the page cache: one byte of each page is read,
// which waits for the page to arrive. With huge pages the faults read 2 MiB
// folios ahead; without, each chunk is requested with MADV_WILLNEED
// (asynchronous, large reads) one chunk ahead.
func warmFile(data []byte, progress *atomic.Int64) error {
	ps := os.Getpagesize()
	// With MADV_HUGEPAGE (only a hint: kernels without transparent huge
	// pages refuse it) the page faults below read the file in 2 MiB
	// folios. MADV_WILLNEED would read it first, in 4 KiB ones, so it is
	// used only when huge pages are not available.
	huge := mmapfile.AdviseHuge(data)
	var acc byte
	for off := 0; off < len(data); off += warmStep {
		end := min(off+warmStep, len(data))
		if off == 0 && !huge {
			if err := unix.Madvise(data[:end], unix.MADV_WILLNEED); err != nil {
				return err
			}
		}
		if end < len(data) && !huge {
			unix.Madvise(data[end:min(end+warmStep, len(data))], unix.MADV_WILLNEED) // ahead; only a hint
		}
		for i := off; i < end; i += ps {
			acc ^= data[i]
		}
		progress.Add(int64(end - off))
	}
	sink.Add(uint32(acc))
	return nil
}
