package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
)

const warmDescription = `Reads the dictionary's files into the page cache and reports how long it
took, so that the first lookups of every worker are served from RAM and not
from disk (one disk read each, cold). The page cache is shared by every
process on the machine: warm once, after installing a dictionary or after a
reboot, before starting the workers. Pages stay until memory pressure
evicts them; "kvlookup info DICT" shows how much is resident
(stats.resident_bytes).

A dictionary that fits in RAM: "kvlookup warm DICT" (reads everything, at
disk speed), then workers open it with the default advice.

A dictionary larger than RAM: warming it all only evicts itself. Warm the
index alone, "kvlookup warm --index-only DICT" (the FST files, and the hash
indexes if built with --hash-index: what every lookup walks, usually a small
part of the size), and open the dictionary in the workers with
reader.Options{Advice: reader.AdviceRandom}, so that each cold lookup reads
only the page or two holding its value instead of a readahead window.

On success it prints one line:
   warmed DICT: BYTES in SECONDS (RATE), RESIDENT of SIZE now in the page cache (was BEFORE)

Exit status: 0, 2 usage, 3 the dictionary cannot be opened or a file
cannot be read.`

func warmCommand() *cli.Command {
	return &cli.Command{
		Name:        "warm",
		Usage:       "read the dictionary into the page cache before workers start (cold-start fix)",
		ArgsUsage:   "DICT",
		Description: warmDescription,
		Flags: append(outputFlags(),
			&cli.BoolFlag{Name: "index-only", Aliases: []string{"i"}, Usage: "warm the FSTs and hash indexes only, not the values (for a dictionary larger than RAM)", DisableDefaultText: true},
			&cli.IntFlag{Name: "threads", Aliases: []string{"t"}, Usage: "read `N` files at once", DefaultText: "all cores"},
		),
		Action: runWarm,
	}
}

func runWarm(c *cli.Context) error {
	if err := wantArgs(c, "DICT"); err != nil {
		return err
	}
	p, err := newPrinter(c)
	if err != nil {
		return err
	}
	if c.Int("threads") < 0 {
		return usageErrorf(c, "--threads must not be negative, got %d", c.Int("threads"))
	}
	path := c.Args().First()
	d, err := openDict(c)
	if err != nil {
		return err
	}
	defer d.Close()
	before, _ := d.Stats() // an error only means residency is unknown
	start := time.Now()
	n, err := d.Warm(&reader.WarmOptions{IndexOnly: c.Bool("index-only"), Threads: c.Int("threads")})
	took := time.Since(start)
	if err != nil {
		return dictError(c, path, err)
	}
	after, _ := d.Stats()
	rate := float64(n) / max(took.Seconds(), 1e-9)
	if p.format == formatJSON {
		b := []byte(`{"path":`)
		b = appendJSONString(b, []byte(path))
		err = p.line(`%s,"bytes":%d,"seconds":%.3f,"resident_bytes":%d,"resident_before":%d,"size":%d}`, b, n, took.Seconds(), after.ResidentBytes, before.ResidentBytes, after.Bytes())
	} else {
		err = p.line("warmed %s: %s in %.2fs (%s/s), %s of %s now in the page cache (was %s)", path, humanBytes(uint64(n)), took.Seconds(), humanBytes(uint64(rate)), humanBytes(uint64(after.ResidentBytes)), humanBytes(uint64(after.Bytes())), humanBytes(uint64(before.ResidentBytes)))
	}
	if err == nil {
		err = p.flush()
	}
	if err != nil {
		return ioError(c, "writing output", err)
	}
	return nil
}
