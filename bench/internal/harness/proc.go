package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/internal/mmapfile"
)

// Rollup is the part of /proc/PID/smaps_rollup we record, in bytes.
type Rollup struct {
	Rss, Pss, PssAnon, PssFile int64
}

// ReadRollup reads /proc/PID/smaps_rollup (Linux ≥ 4.14).
func ReadRollup(pid int) (Rollup, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return Rollup{}, err
	}
	var r Rollup
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		v *= 1024 // kB
		switch f[0] {
		case "Rss:":
			r.Rss = v
		case "Pss:":
			r.Pss = v
		case "Pss_Anon:":
			r.PssAnon = v
		case "Pss_File:":
			r.PssFile = v
		}
	}
	return r, sc.Err()
}

// MemAvailable returns /proc/meminfo's MemAvailable in bytes.
func MemAvailable() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemAvailable:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v * 1024
		}
	}
	return 0
}

// DropCache writes back and drops the page-cache pages of files
// (mmapfile.DropCache: fdatasync, then posix_fadvise(POSIX_FADV_DONTNEED)
// over the whole file). Pages that another process has mapped stay:
// callers make sure no reader is running.
func DropCache(files []string) error {
	for _, name := range files {
		if err := mmapfile.DropCache(name); err != nil {
			return err
		}
	}
	return nil
}

// Resident returns the share (0..1) of the files' pages in the page cache,
// measured with mincore over a fresh read-only mapping.
func Resident(files []string) (float64, error) {
	var in, total int64
	page := int64(os.Getpagesize())
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		st, err := f.Stat()
		if err != nil || st.Size() == 0 {
			f.Close()
			continue
		}
		m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
		f.Close()
		if err != nil {
			return 0, err
		}
		vec := make([]byte, (st.Size()+page-1)/page)
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0])))
		unix.Munmap(m)
		if errno != 0 {
			return 0, fmt.Errorf("mincore %s: %w", name, errno)
		}
		for _, b := range vec {
			if b&1 != 0 {
				in++
			}
		}
		total += int64(len(vec))
	}
	if total == 0 {
		return 0, nil
	}
	return float64(in) / float64(total), nil
}

// FileSizes returns the apparent size and the allocated size (st_blocks) of
// files, in bytes.
func FileSizes(files []string) (apparent, allocated int64, err error) {
	for _, name := range files {
		var st unix.Stat_t
		if err := unix.Stat(name, &st); err != nil {
			return 0, 0, err
		}
		apparent += st.Size
		allocated += st.Blocks * 512
	}
	return apparent, allocated, nil
}

// RecacheHuge drops the files from the page cache and reads them back
// through a mapping advised MADV_HUGEPAGE, so that the page cache holds
// them in 2 MiB folios, which every later mapping maps with 2 MiB pages.
// kvdict's writer leaves its files so by itself (it writes 2 MiB-aligned
// chunks); other stores' writers leave 4 KiB folios. kvbench -recache-huge
// gives every system the same page-cache layout before the warm lookups.
// It returns the share (0..1) of the files' bytes that ended up in 2 MiB
// pages, read from this process's smaps (FilePmdMapped) before unmapping.
func RecacheHuge(files []string) (float64, error) {
	if err := DropCache(files); err != nil {
		return 0, err
	}
	return HugeShare(files)
}

// HugeShare maps the files (advised MADV_HUGEPAGE, which only matters for
// pages not yet cached), touches every page and returns the share (0..1)
// of their bytes mapped with 2 MiB pages: those the page cache holds in
// 2 MiB folios.
func HugeShare(files []string) (float64, error) {
	var huge, total int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		st, err := f.Stat()
		if err != nil || st.Size() < 2<<20 {
			f.Close()
			continue
		}
		data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("mmap %s: %w", name, err)
		}
		if err := unix.Madvise(data, unix.MADV_HUGEPAGE); err != nil {
			unix.Munmap(data)
			return 0, fmt.Errorf("madvise %s: %w", name, err)
		}
		var acc byte
		for i := 0; i < len(data); i += 4096 {
			acc ^= data[i]
		}
		recacheSink += int(acc)
		huge += filePmdMapped(uintptr(unsafe.Pointer(&data[0])))
		total += st.Size()
		if err := unix.Munmap(data); err != nil {
			return 0, err
		}
	}
	if total == 0 {
		return 0, nil
	}
	return float64(huge) / float64(total), nil
}

var recacheSink int

// filePmdMapped returns the FilePmdMapped bytes of this process's mapping
// that starts at addr.
func filePmdMapped(addr uintptr) int64 {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0
	}
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			start, _, _ := strings.Cut(f[0], "-")
			v, err := strconv.ParseUint(start, 16, 64)
			in = err == nil && uintptr(v) == addr
			continue
		}
		if in && strings.HasPrefix(l, "FilePmdMapped:") {
			if f := strings.Fields(l); len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
