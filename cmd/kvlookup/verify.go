package main

import (
	"github.com/urfave/cli/v2"
)

const verifyDescription = `Reads the whole dictionary and checks everything: the MANIFEST (magic,
version, checksum), then for every partition the FST file and the value
log (header, footer, size, body CRC-32C), a walk of every key of the FST,
and that every value it points to lies inside the value log; key counts
must match the MANIFEST. It reads every byte, so it takes about as long as
reading the files from disk.

On success it prints
   OK DICT: K keys in P partitions, F files, N bytes checked
and exits 0. On the first problem it prints where it is, for example
   kvlookup verify: DICT is corrupt: valuelog: part-00000.vlog: record at offset 1234: ...
and exits 3: the message names the damaged file and the offset. Rebuild the
dictionary with kvbuild, or copy it again from a good source; do not serve
it. A dictionary that cannot be opened at all (missing, not a dictionary,
newer format) also exits 3, with the messages listed in kvlookup --help.

Run verify after copying a dictionary to a machine, before workers open it:
opening checks only headers, footers and sizes, not every byte.

Exit status: 0 intact, 2 usage, 3 cannot be opened or corrupt.`

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:        "verify",
		Usage:       "check every byte and checksum of a dictionary; exit 3 on any corruption",
		ArgsUsage:   "DICT",
		Description: verifyDescription,
		Flags:       outputFlags(),
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, "DICT"); err != nil {
				return err
			}
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			path := c.Args().First()
			d, err := openDict(c)
			if err != nil {
				return err
			}
			defer d.Close()
			if err := d.Verify(); err != nil {
				return dictError(c, path, err)
			}
			m := d.Manifest()
			var size uint64
			for _, pt := range m.Partitions {
				size += pt.FST.Size + pt.Log.Size
			}
			files := 1 + 2*len(m.Partitions) // MANIFEST, then an FST and a value log each
			if p.format == formatJSON {
				b := append([]byte(`{"ok":true,`), `"path":`...)
				b = appendJSONString(b, []byte(path)) // paths from argv are valid UTF-8 in practice
				err = p.line(`%s,"keys":%d,"partitions":%d,"files":%d,"bytes":%d}`, b, m.Keys, len(m.Partitions), files, size)
			} else {
				err = p.line("OK %s: %d keys in %d partitions, %d files, %d bytes checked", path, m.Keys, len(m.Partitions), files, size)
			}
			if err == nil {
				err = p.flush()
			}
			if err != nil {
				return ioError(c, "writing output", err)
			}
			return nil
		},
	}
}
