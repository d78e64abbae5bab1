package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/escape"
	"github.com/kvdict/kvdict/internal/extsort"
	"github.com/kvdict/kvdict/internal/version"
	"github.com/kvdict/kvdict/valuelog"
)

// Exit codes.
const (
	exitOK          = 0
	exitInput       = 1   // a bad line, a duplicate under --duplicates error, unsorted --sorted input, a bad sum
	exitUsage       = 2   // bad flags or arguments, target exists without --force
	exitIO          = 3   // cannot read an input, write a run or the dictionary; disk full
	exitInterrupted = 130 // SIGINT/SIGTERM; nothing was written
)

const description = `kvbuild reads key<TAB>value lines from any number of files, in any order,
and writes one dictionary directory (an FST of the keys plus a value log) to
DICT, atomically: readers of DICT see the old dictionary or the new one,
never a mix, and a failed or interrupted build leaves DICT as it was.

Across machines: 'kvbuild splits', 'kvbuild part' and 'kvbuild join' build
one dictionary from key-range parts built anywhere (each has --help). Only
a first argument of exactly splits, part or join is a subcommand: an INPUT
of that name is read when it is not first (kvbuild -o DICT part).

INPUT RULES
   - key = the bytes before the first TAB; value = the rest of the line, later
     TABs included. A trailing \n or \r\n is not part of the value. The last
     line may lack its newline. Empty lines are skipped. Bytes are bytes: no
     UTF-8 requirement, and keys are ordered by bytes, never by locale.
   - A line with no TAB, or with a key longer than 65535 bytes, is an error
     naming FILE:LINE and the reason, and nothing is written. With
     --skip-invalid such lines are skipped, counted, and the first few are
     listed at the end. With --bare-keys a line with no TAB is a key with an
     empty value: a set of keys, or counts with --duplicates count.
   - --skip-header N skips the first N lines of every INPUT (a header row).
   - INPUT is a file path, or - for standard input. Files compressed with
     gzip or zstd are decompressed transparently (recognised by their first
     bytes, whatever their names). xz, bzip2, lz4 and zip input is
     recognised and refused (exit 3) with the command to decompress it.
   - A file that starts with a UTF-8 byte order mark (EF BB BF, written by
     some Windows tools) gets a warning: the mark is part of its first key.
   - --unescape decodes \t \n \r and \\ in keys and values (for data whose
     values hold TABs or newlines); any other backslash sequence is an error
     naming FILE:LINE.

DUPLICATE KEYS (--duplicates)
   Input order is the order of the INPUT arguments, then line order.
   last     the last occurrence wins (the default)
   first    the first occurrence wins
   error    fail, naming the key and two FILE:LINE places where it occurs
   sum      add the values: each must be a decimal integer that fits int64
            (optional sign, digits only); a value that is not, or a key whose
            total does not fit int64, is an error naming FILE:LINE (running
            totals may leave int64: the order of the lines never matters)
   count    the value becomes the number of occurrences (input values are
            ignored)
   concat   join the values, in input order, with --separator (default ",";
            \t \n \r \\ are decoded in the separator)
   Reductions are done while merging, record by record; only concat holds a
   key's joined value in memory.

MEMORY, THREADS AND TEMPORARY FILES
   --memory bounds the whole process (peak RSS stays within about --memory +
   64 MiB above 256M; smaller values work but are dominated by fixed
   buffers). The default is a quarter of RAM, at most 4G, at least 256M:
   that leaves the rest of RAM to the page cache holding the run files and
   the new dictionary. Sizes take K, M, G or T (powers of 1024).
   Input that fits in --memory is sorted in memory and never touches the
   disk. Bigger input is sorted in runs of about --memory/--threads, spilled
   to a private directory inside --tmp-dir, and merged in one pass. The
   default --tmp-dir is the directory of DICT, not /tmp: the run files need
   about as much space as the input (often more than a RAM-backed /tmp has),
   and the dictionary is written beside DICT anyway. Temporary files are
   removed on success, on failure, on Ctrl-C, SIGTERM and SIGHUP (--keep-tmp
   keeps them). A build killed outright (SIGKILL, the OOM killer, a crash)
   cannot clean up: each temporary directory records its owner (host, boot,
   PID and start time), and every build removes those of dead builds beside
   DICT and in --tmp-dir, saying how much it freed.
   At the start kvbuild compares the free space of --tmp-dir and of DICT's
   file system with what the build will probably need (runs: about the
   input size, when it is over a quarter of --memory; the dictionary: up to the
   input size; .gz/.zst input counted 4x) and warns with the numbers, even
   under --quiet, rather than failing with "disk full" at the end.
   --threads (default: all cores) workers parse and sort, and the dictionary
   is written as --threads key-range partitions built in parallel.
   --sorted skips the sort for input already in byte order (LC_ALL=C sort);
   it checks the order and fails at the first FILE:LINE that breaks it.
   --registry -1 (the default) turns off vellum's suffix registry: FST
   construction is about 3x faster and the dictionary 1-2% bigger on URLs,
   but twice as big on paths (docs/BENCHMARKS.md, sections 2 and 6). Pass 0
   for the fst package's default (10000 rows), or a row count. With
   --compression zstd the default is 3000 rows: a size-first build that
   keeps most of the sharing of 10000 for ~40% less build CPU.

VERSIONED STORES (--publish)
   With --publish, DICT names a store: a directory of immutable versions
   (v000001.kvd, v000002.kvd, ...) and a CURRENT file naming the one readers
   open. kvbuild writes the next version, then switches CURRENT to it
   atomically (rename); DICT is created if absent. Readers open the store
   path itself (kvlookup, reader.Open) and get the current version;
   long-running readers (reader.Handle) switch without a restart. Versions
   are never replaced, so --force is refused; old versions stay until
   'kvlookup gc STORE' removes them; 'kvlookup versions STORE' lists them.
   One publisher at a time: a second fails with "busy" (exit 2), as does
   publishing into a dictionary or a directory holding other files.

REPLACING A DICTIONARY (--force)
   DICT a dictionary: the new one is swapped in atomically; readers that
   opened the old one keep reading it until they close it.
   DICT a symbolic link to a dictionary ("build a new version, flip the
   link"): the new dictionary is written beside the link's target as
   NAME.YYYYMMDDTHHMMSSZ (the link's name and the UTC time), then the link
   is replaced atomically to point at it (relative if it was). The previous
   dictionary is kept, for readers still using it and for rollback: delete
   it yourself. For managed versions with garbage collection see --publish.

UPDATES (--base, --delete)
   kvbuild --base OLD [--delete KEYS]... -o NEW DELTA... writes NEW as if
   built from OLD's input followed by DELTA, without that input: OLD (a
   dictionary, or a store's current version) enters the merge as the
   oldest input, so the duplicate policy applies across it and DELTA:
   last, the delta wins; first, OLD wins; error, a key in both fails; sum,
   OLD's sums and DELTA's values add up; count, OLD's counts plus DELTA's
   occurrences; concat, OLD's value, SEP, then DELTA's values. The policy
   (and separator) default to OLD's, as its MANIFEST records them; a
   --duplicates that would mix kinds of values with OLD's is refused.
   --delete KEYS names a file (or -) of keys to remove from OLD, one per
   line; on a line with a TAB only the bytes before it are the key (so a
   TSV of the rows to drop works, and a line "\t" is the empty key); empty
   lines are skipped; --unescape applies; .gz/.zst are read transparently.
   Deletions apply to OLD before DELTA is merged: a key both deleted and in
   DELTA gets DELTA's value alone (delete + insert = replace). OLD is
   streamed, never sorted or spilled; its hash index and compression are
   kept unless --hash-index=false or --compression none is given (OLD's
   zstd dictionary is reused, unless the update changes the records'
   shape with --hash-index: then one is trained on DELTA's files). NEW may be OLD
   itself with --force, or, with --publish, the next version of the store
   OLD.

REPRODUCIBLE BUILDS
   The dictionary is a function of the input, the flags and the kvbuild
   version: partition boundaries come from a sample of the distinct keys
   and value deduplication from a fixed hash, never from timing. Set
   SOURCE_DATE_EPOCH (seconds since 1970) to fix the two remaining
   variables, the creation time in the MANIFEST and the --hash-index seed:
   two builds are then byte for byte identical, so a rebuild can be
   checksummed against a published dictionary. Pass --threads and --memory
   explicitly to rebuild on another machine: their defaults (all cores, a
   quarter of RAM) set the number of partitions. This holds with
   --compression zstd too: the zstd dictionary is trained from a sample
   that depends on the input's bytes alone.

PROGRESS
   On a terminal, a progress line on stderr shows the phase, lines and bytes
   done, the rate and an ETA. At the end one summary line goes to stderr
   (keys, duplicates resolved, lines skipped, sizes, time, peak memory);
   --quiet turns both off. Standard output is not used.

ERRORS AND EXIT STATUS
   0    the dictionary was written
   1    invalid input: "FILE:LINE: no TAB between key and value";
        "FILE:LINE: key is N bytes, longer than the 65535 bytes the format
        can hold"; "FILE:LINE: bad escape in key|value" (--unescape);
        "duplicate key K at FILE:LINE and FILE:LINE" (--duplicates error);
        "FILE:LINE: value V is not a decimal int64" and "FILE:LINE: sum for
        key K overflows int64" (--duplicates sum); "FILE:LINE: input is not
        sorted in byte order" (--sorted)
   2    usage: a bad flag or size, no INPUT, no -o; "target already exists"
        (pass --force to replace a dictionary; kvbuild never replaces a
        file or a non-empty directory that is not a dictionary, nor a
        symlink to one)
   3    I/O: an input cannot be opened or read (including corrupt .gz or
        .zst data, and "FILE: truncated compressed input": a .gz or .zst
        stream that ends mid-stream, as an interrupted copy leaves it, so
        the rows after the cut would be lost); "disk full" writing run files
        (free space or choose another --tmp-dir) or the dictionary
   130  interrupted by Ctrl-C, SIGTERM or SIGHUP (a closed terminal; under
        nohup SIGHUP is ignored): temporary files removed, DICT untouched`

// run is main without the process: tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, os.Stdin, stdout, stderr)
}

// exitError carries an exit code out of the cli Action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if code, ok := runSubcommand(ctx, args, stdin, stdout, stderr); ok { // subcommands.go
		return code
	}
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, interspersed(app.Flags, args))
	if err == nil {
		return exitOK
	}
	code := exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	msg := err.Error()
	if errors.Is(err, builder.ErrExists) {
		// The library names its option; the command names its flag.
		msg = strings.Replace(msg, "(Options.Force replaces it)", "(pass --force to replace it)", 1)
	}
	fmt.Fprintf(stderr, "kvbuild: %s\n", msg)
	if code == exitUsage {
		fmt.Fprintln(stderr, "Run 'kvbuild --help' for usage.")
	}
	return code
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:            "kvbuild",
		Usage:           "compile unsorted key<TAB>value lines into a kvdict dictionary",
		UsageText:       "kvbuild [flags] -o DICT INPUT...   (flags may also follow the inputs; -- ends them)",
		Description:     description,
		Version:         version.String(),
		HideHelpCommand: true,
		Writer:          stdout,
		ErrWriter:       stderr,
		ExitErrHandler:  func(*cli.Context, error) {}, // run maps errors to exit codes
		OnUsageError:    onUsageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the dictionary directory `DICT`", Required: true},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing dictionary at DICT (atomically); if DICT is a symlink to a dictionary, build a new one beside its target and flip the link"},
			&cli.BoolFlag{Name: "publish", Usage: "DICT is a store: write its next version and make it current (see VERSIONED STORES)"},
			&cli.StringFlag{Name: "memory", Usage: "memory budget `SIZE` for the whole process, e.g. 512M, 2G", DefaultText: "1/4 of RAM, 256M..4G"},
			&cli.IntFlag{Name: "threads", Usage: "`N` parse/sort workers and output partitions", DefaultText: "all cores"},
			&cli.StringFlag{Name: "tmp-dir", Usage: "spill sorted runs under `DIR`", DefaultText: "the directory of DICT"},
			&cli.BoolFlag{Name: "keep-tmp", Usage: "keep the temporary run files"},
			&cli.BoolFlag{Name: "sorted", Usage: "input is already in byte order: check it instead of sorting"},
			&cli.StringFlag{Name: "duplicates", Value: "last", Usage: "duplicate keys `POLICY`: last, first, error, sum, count or concat"},
			&cli.StringFlag{Name: "base", Usage: "update the dictionary (or store) `OLD`: merge it with INPUT as the oldest input (see UPDATES)"},
			&cli.StringSliceFlag{Name: "delete", Usage: "remove the keys listed in `KEYS` (one per line) from --base; repeatable"},
			&cli.StringFlag{Name: "separator", Value: ",", Usage: "`SEP` for --duplicates concat (\\t \\n \\r \\\\ decoded)"},
			&cli.BoolFlag{Name: "unescape", Usage: "decode \\t \\n \\r \\\\ in keys and values"},
			&cli.BoolFlag{Name: "skip-invalid", Usage: "skip invalid lines (reported at the end) instead of failing"},
			&cli.BoolFlag{Name: "bare-keys", Usage: "a line without a TAB is a key with an empty value (sets; counting with --duplicates count)"},
			&cli.IntFlag{Name: "skip-header", Usage: "skip the first `N` lines of every INPUT (header rows)"},
			&cli.StringFlag{Name: "compression", Value: "none", Usage: "zstd: store the distinct values in zstd-compressed groups of up to 8 values (1 KiB), with a dictionary trained on a sample of the input files while they are sorted (standard input is not sampled: no dictionary); none: raw records. With --hash-index the groups hold keyed records (key and value) and the index addresses groups. See docs/BENCHMARKS.md section 6 for the default"},
			&cli.BoolFlag{Name: "fst-top", Value: true, DisableDefaultText: true, Usage: "write a top file per partition: a compact copy of the FST's upper states (about 1 byte per key) that lookups without the hash index start in, 1.1-1.2x faster at 10M keys (docs/BENCHMARKS.md section 8); default on without --hash-index and --compression zstd, off with either (the index answers Get; compression is for size)"},
			&cli.BoolFlag{Name: "hash-index", Value: defaultHashIndex, Usage: "store keys with their values and build a hash index per partition: Get in about two cache misses instead of an FST walk, for about 10 bytes per key plus the key's length (--hash-index=false: FST lookups only, the smaller dictionary)"},
			&cli.IntFlag{Name: "registry", Value: -1, Usage: "vellum registry `ROWS` (suffix sharing): -1 = off, the fastest build (the default, but 3000 with --compression zstd); 0 = the fst package default (10000); bigger = a slightly smaller FST, a much slower build"},
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile (development)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress line and no summary"},
		},
		Action: func(c *cli.Context) error { return action(c, stdin, stderr) },
	}
}

func usageErr(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

func action(c *cli.Context, stdin io.Reader, stderr io.Writer) error {
	start := time.Now()
	if p := c.String("cpuprofile"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return usageErr("--cpuprofile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	out := c.String("output")
	if c.NArg() == 0 {
		return usageErr("no INPUT given (use - for standard input)")
	}
	sopts, err := sortOptions(c, out)
	if err != nil {
		return err
	}
	if err := sourceDateEpoch(sopts.Builder); err != nil {
		return err
	}
	nstdin := 0
	var inputs []extsort.Input
	for _, a := range c.Args().Slice() {
		if a == "-" {
			if nstdin++; nstdin > 1 {
				return usageErr("- (standard input) given more than once")
			}
		}
		inputs = append(inputs, extsort.FileInput(a, newStdinReader(c.Context, stdin)))
	}
	removeLeftovers(stderr, c.Bool("quiet"), leftoverDirs(out, sopts.TempDir, c.Bool("publish"))...)
	checkSpace(stderr, c.Args().Slice(), out, sopts.TempDir, cmp.Or(sopts.Memory, builder.DefaultMemory()), sopts.Sorted)
	prevLink := readLink(out)
	bm, err := openBase(c, stdin, sopts, nstdin > 0)
	if err != nil {
		return err
	}
	defer bm.close()
	if b := sopts.Builder; b != nil && b.Compression != nil {
		keyed := b.KeyedRecords || b.HashIndex != nil // an index implies keyed records
		if z := bm.zstdDict(keyed); z != nil {
			// An update keeps its base's dictionary: trained on the
			// base's input, it fits the records being rewritten far
			// better than one trained on a small delta would.
			b.CompressionDict = func() ([]byte, error) { return z, nil }
		} else {
			// Train beside the sort: the builder asks for the dictionary
			// when its first partition starts, after the input is read.
			type trained struct {
				dict []byte
				err  error
			}
			done := make(chan trained, 1)
			names := c.Args().Slice()
			go func() {
				d, err := trainDict(names, keyed)
				done <- trained{d, err}
			}()
			b.CompressionDict = func() ([]byte, error) { t := <-done; return t.dict, t.err }
		}
	}
	tg, err := openTarget(out, c.Bool("publish"), sopts.Builder)
	if err != nil {
		return err
	}
	defer tg.abort() // no-op after commit
	s, err := builder.NewSorterInto(tg.b, sopts)
	if err != nil {
		return &exitError{exitIO, err}
	}
	defer s.Abort() // no-op after Merge
	if err := bm.add(s); err != nil {
		return &exitError{exitIO, err}
	}
	// The memory limit makes the Go collector work to keep the heap inside
	// the budget; the sorter sizes its buffers to fit under it (the run
	// arenas live outside the Go heap, so this is an upper bound). Never
	// below 64 MiB, where the collector would run without pause.
	so := s.Options()
	debug.SetMemoryLimit(max(so.Memory, 64<<20))

	prog := new(extsort.Progress)
	quiet := c.Bool("quiet")
	var bar *progressBar
	if !quiet && isTerminal(stderr) {
		bar = startProgress(stderr, prog, so.Progress, start)
	}
	st, err := extsort.Build(c.Context, inputs, s, &extsort.Options{
		Unescape:    c.Bool("unescape"),
		SkipInvalid: c.Bool("skip-invalid"),
		Progress:    prog,
		KeyOnly:     c.Bool("bare-keys"),
		SkipHeader:  c.Int("skip-header"),
	})
	if err == nil {
		err = tg.commit()
	}
	bar.stop()
	if err != nil {
		return classify(c.Context, err)
	}
	for _, name := range st.BOMInputs { // even under --quiet: the first key is probably wrong
		fmt.Fprintf(stderr, "kvbuild: warning: %s starts with a UTF-8 byte order mark (EF BB BF): it is part of its first key; remove it (sed -i '1s/^\xEF\xBB\xBF//' FILE) and rebuild if that is not intended\n", name)
	}
	if !quiet {
		report(stderr, tg.path, st, time.Since(start), c.Int("threads"))
		if bm != nil {
			fmt.Fprintln(stderr, bm.summary())
		}
		linkNote(stderr, out, prevLink)
	}
	return nil
}

// compressionRegistry is the FST registry's rows for --compression zstd
// when --registry is not given.
const compressionRegistry = 3000

// sortOptions maps the flags to the Sorter's options.
func sortOptions(c *cli.Context, out string) (*builder.SortOptions, error) {
	sep, ok := unescapeArg(c.String("separator"))
	if !ok {
		return nil, usageErr("--separator: bad escape (only \\t \\n \\r \\\\)")
	}
	pol, err := builder.ParsePolicy(c.String("duplicates"), sep)
	if err != nil {
		return nil, usageErr("--duplicates: %v", strings.TrimPrefix(err.Error(), "builder: "))
	}
	var mem int64
	if s := c.String("memory"); s != "" {
		if mem, err = parseSize(s); err != nil {
			return nil, usageErr("--memory: %v", err)
		}
	}
	if c.Int("threads") < 0 {
		return nil, usageErr("--threads must be positive")
	}
	tmpDir := c.String("tmp-dir")
	if tmpDir == "" {
		tmpDir = filepath.Dir(filepath.Clean(out))
	}
	hix := hashIndexWanted(c)
	var comp *valuelog.Compression
	switch compressionWanted(c) {
	case "none", "":
	case "zstd":
		comp = &valuelog.Compression{}
	default:
		return nil, usageErr("--compression: %q is not zstd or none", c.String("compression"))
	}
	bopts := &builder.Options{
		Compression: comp,
		Force:       c.Bool("force"),
		Tool:        "kvbuild " + version.Version,
		Build: map[string]string{
			"unescape":   strconv.FormatBool(c.Bool("unescape")),
			"hash_index": strconv.FormatBool(hix),
		},
	}
	if fstTopWanted(c, hix, comp != nil) {
		bopts.FSTTop = &fst.TopOptions{}
	}
	// The hash index build holds (hash, offset) pairs for a partition in a
	// buffer of hixMem and spills sorted runs beyond it; the partition
	// reserve grows by that buffer (plus the spill writer's) so the whole
	// build stays inside --memory.
	var reserve int64
	if hix {
		m, t := cmp.Or(mem, builder.DefaultMemory()), cmp.Or(c.Int("threads"), runtime.NumCPU())
		hixMem := min(max(m/16/int64(t), 1<<20), 64<<20)
		bopts.HashIndex = &hashindex.WriterOptions{MemoryBytes: int(hixMem)}
		reserve = builder.DefaultPartitionReserve + hixMem + 1<<20
	}
	registry := c.Int("registry")
	if comp != nil && !c.IsSet("registry") {
		// Compression asks for a small dictionary: with it the FST is
		// most of the size, and the registry's suffix sharing halves it on
		// paths (15.9 -> 7.6 B/key). compressionRegistry rows rather than
		// the fst default's 10000: the registry's cost is its cache
		// misses, and 3000 rows (~1 MB of cells and states) keep most of
		// the sharing (paths 7.2 -> 7.6 B/key, pypi and URLs +0.2-0.5%)
		// for ~40% less build CPU (docs/BENCHMARKS.md section 6, "Build
		// time").
		registry = compressionRegistry
	}
	if r := registry; r > fst.DefaultRegistryTableSize {
		// A bigger registry than the reserve assumes: about 16 B per cell
		// plus the state it holds, ~128 B per cell in all.
		reserve = max(reserve, builder.DefaultPartitionReserve) + int64(r-fst.DefaultRegistryTableSize)*int64(fst.DefaultRegistryMRUSize)*128
	}
	if r := registry; r != 0 {
		bopts.FST = &fst.BuilderOptions{RegistryTableSize: r}
		bopts.Build["registry"] = strconv.Itoa(r)
	} else {
		bopts.FST = &fst.BuilderOptions{} // the fst package's default
	}
	return &builder.SortOptions{
		Duplicates: pol,
		Memory:     mem,
		Threads:    c.Int("threads"),
		TempDir:    tmpDir,
		KeepTemp:   c.Bool("keep-tmp"),
		Sorted:     c.Bool("sorted"),
		Builder:    bopts,

		PartitionReserve: reserve,
	}, nil
}

// report prints the summary and notes after a build.
func report(w io.Writer, out string, st *extsort.Stats, d time.Duration, threads int) {
	fmt.Fprintln(w, summary(out, st, d))
	explicit := threads != 0
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	if st.Threads < threads && explicit { // the default (all cores) is capped silently
		fmt.Fprintf(w, "kvbuild: used %d threads, not %d: --memory %s leaves too little per thread\n", st.Threads, threads, formatBytes(st.MemoryLimit))
	}
	if st.TempDir != "" {
		fmt.Fprintf(w, "kvbuild: kept the temporary runs in %s (--keep-tmp)\n", st.TempDir)
	}
	if st.Skipped > 0 {
		fmt.Fprintf(w, "kvbuild: skipped %d invalid line(s); the first:\n", st.Skipped)
		for _, le := range st.FirstSkips {
			fmt.Fprintf(w, "  %s\n", le.Error())
		}
	}
}

// signalGrace is how long classify waits for a signal to cancel ctx when
// the input ended badly: the Ctrl-C (or closed terminal) that kills the
// program feeding a pipe reaches kvbuild too, but its cancellation goes
// through the os/signal goroutine and can trail the EOF it caused by a
// scheduler tick on a busy machine (TestClassify_SignalTrailsInputError).
const signalGrace = 100 * time.Millisecond

// classify maps a build error to an exit code.
func classify(ctx context.Context, err error) error {
	if ctx.Err() == nil && (errors.Is(err, builder.ErrInvalidInput) || errors.Is(err, extsort.ErrTruncated)) {
		t := time.NewTimer(signalGrace)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	switch {
	case ctx.Err() != nil:
		// A signal arrived: the build stops because of it, whatever error
		// the pipeline met on the way out (standard input closed by the
		// same Ctrl-C can end mid-line, a "no TAB" that is not the cause).
		return &exitError{exitInterrupted, errors.New("interrupted: temporary files removed, nothing written")}
	case errors.Is(err, builder.ErrInvalidInput):
		return &exitError{exitInput, fmt.Errorf("%w; nothing written", err)}
	case errors.Is(err, builder.ErrDiskFull):
		return &exitError{exitIO, fmt.Errorf("%w (choose another place with --tmp-dir)", err)}
	case errors.Is(err, extsort.ErrTruncated):
		return &exitError{exitIO, fmt.Errorf("%w; nothing written", err)}
	case errors.Is(err, syscall.ENOSPC):
		return &exitError{exitIO, fmt.Errorf("disk full writing the dictionary (it needs about the size of the input, beside DICT): %w", err)}
	}
	return &exitError{exitIO, err}
}

// fstTopWanted is --fst-top when given; otherwise on exactly when there
// is neither a hash index (with one, Get and Contains do not walk the FST)
// nor compression (its point is size: the top file adds about 1 B/key,
// 2.5% of pypi.tsv compressed, to lookups whose time is the group decode,
// docs/BENCHMARKS.md section 8).
func fstTopWanted(c *cli.Context, hix, compressed bool) bool {
	if c.IsSet("fst-top") {
		return c.Bool("fst-top")
	}
	return !hix && !compressed
}

// defaultHashIndex is --hash-index's default; docs/BENCHMARKS.md section 11
// ("Default") says why it is off for now (the index and keyed records add
// about 25 B/key on pypi) and gives the measurements it rests on.
const defaultHashIndex = false

// parseSize parses 123, 512K, 512M, 2G, 1T (powers of 1024; an optional
// trailing B or iB is accepted).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("bad size %q (want e.g. 512M, 2G)", s)
	}
	return int64(v * float64(mult)), nil
}

// unescapeArg decodes \t \n \r \\ in a flag value (the --separator), by
// the same rule as --unescape input. An empty argument is an empty, non-nil
// separator.
func unescapeArg(s string) ([]byte, bool) {
	return escape.Unescape([]byte{}, []byte(s))
}

func summary(out string, st *extsort.Stats, d time.Duration) string {
	size := dirSize(out)
	rate := float64(st.Keys) / d.Seconds()
	input := formatBytes(st.InputBytes)
	if st.TextBytes != st.InputBytes {
		input = fmt.Sprintf("%s (%s uncompressed)", formatBytes(st.InputBytes), formatBytes(st.TextBytes))
	}
	return fmt.Sprintf("kvbuild: wrote %s: %d keys from %d lines (%d duplicates resolved, %d lines skipped) in %.1fs (%.2fM lines/s, %.2fM keys/s, %s/s of text; read+sort %.1fs, merge %.1fs); input %s, dictionary %s, spilled %s in %d runs; %d partitions; peak memory %s (budget %s)",
		out, st.Keys, st.Lines, st.Duplicates, st.Skipped, d.Seconds(), float64(st.Lines)/d.Seconds()/1e6, rate/1e6, formatBytes(int64(float64(st.TextBytes)/d.Seconds())),
		st.ReadTime.Seconds(), st.MergeTime.Seconds(),
		input, formatBytes(size), formatBytes(st.SpillBytes), st.Spilled, st.Partitions,
		formatBytes(peakRSS()), formatBytes(st.MemoryLimit))
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
