package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/store"
)

const versionsDescription = `Lists the versions of a store (a directory written by kvbuild --publish),
oldest first, one per line:
   NAME<TAB>created=TIME<TAB>keys=N[<TAB>current]
where NAME is the version directory (v000043.kvd), TIME its build time
(UTC, RFC 3339), and "current" marks the version CURRENT names, the one
'kvlookup get STORE ...' and reader.Open(STORE) read. A version whose
MANIFEST cannot be read shows error=MESSAGE instead of its time and keys.
--format json prints one JSON object per version instead.

Exit status: 0, 2 usage, 3 STORE is not a store or cannot be read.`

func versionsCommand() *cli.Command {
	return &cli.Command{
		Name:        "versions",
		Usage:       "list the versions of a store written by kvbuild --publish",
		ArgsUsage:   "STORE",
		Description: versionsDescription,
		Flags:       outputFlags(),
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, "STORE"); err != nil {
				return err
			}
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			vs, err := store.Versions(c.Args().First())
			if err != nil {
				return storeError(c, err)
			}
			for _, v := range vs {
				if p.format == formatJSON {
					err = versionJSON(p, v)
				} else {
					err = versionTSV(p, v)
				}
				if err != nil {
					break
				}
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

func versionTSV(p *printer, v store.Version) error {
	if v.Err != nil {
		fmt.Fprintf(p.w, "%s\terror=%v", v.Name, v.Err)
	} else {
		fmt.Fprintf(p.w, "%s\tcreated=%s\tkeys=%d", v.Name, v.Created.UTC().Format(time.RFC3339), v.Keys)
	}
	if v.Current {
		p.w.WriteString("\tcurrent")
	}
	return p.w.WriteByte('\n')
}

func versionJSON(p *printer, v store.Version) error {
	var msg string
	if v.Err != nil {
		msg = v.Err.Error()
	}
	b, err := json.Marshal(struct {
		Name    string    `json:"name"`
		Number  uint64    `json:"number"`
		Path    string    `json:"path"`
		Current bool      `json:"current"`
		Created time.Time `json:"created"`
		Keys    uint64    `json:"keys"`
		Error   string    `json:"error,omitempty"`
	}{v.Name, v.Number, v.Path, v.Current, v.Created.UTC(), v.Keys, msg})
	if err != nil {
		return err
	}
	p.w.Write(b)
	return p.w.WriteByte('\n')
}

const gcDescription = `Removes old versions of a store (a directory written by kvbuild
--publish). The only kvlookup command that deletes anything. It never
removes:
   - the current version;
   - the --keep newest other versions (default 1: the rollback target);
   - a version superseded (by the next newer version's build) less than
     --min-age ago (default 0; e.g. 1h, 7d is not accepted, 168h is);
   - a version a process on this machine has open through the store
     (readers hold a lease, an flock on its MANIFEST): listed as "in-use"
     and removed by a later gc.
Readers on other machines (NFS) hold no lease: give them --min-age longer
than they keep a version open. Prints "removed NAME" and "in-use NAME"
lines; --dry-run prints what it would remove and removes nothing.

Exit status: 0, 2 usage, 3 STORE is not a store, cannot be read, or is
busy (kvbuild --publish is writing to it: try again when it is done).`

func gcCommand() *cli.Command {
	return &cli.Command{
		Name:        "gc",
		Usage:       "remove old versions of a store (keeps the current one)",
		ArgsUsage:   "STORE",
		Description: gcDescription,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "keep", Value: 1, Usage: "keep the `N` newest versions besides the current one"},
			&cli.DurationFlag{Name: "min-age", Usage: "keep versions superseded less than `DURATION` ago (e.g. 30m, 24h)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print what would be removed; remove nothing"},
		},
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, "STORE"); err != nil {
				return err
			}
			if c.Int("keep") < 0 || c.Duration("min-age") < 0 {
				return usageErrorf(c, "--keep and --min-age must not be negative")
			}
			res, err := store.GC(c.Args().First(), &store.GCOptions{Keep: c.Int("keep"), MinAge: c.Duration("min-age"), DryRun: c.Bool("dry-run")})
			w := c.App.Writer
			for _, v := range res.Removed {
				fmt.Fprintf(w, "removed %s\n", v.Name)
			}
			for _, v := range res.InUse {
				fmt.Fprintf(w, "in-use %s\n", v.Name)
			}
			if err != nil {
				return storeError(c, err)
			}
			return nil
		},
	}
}

// storeError turns an error from the store package into the message the
// user sees (exit 3).
func storeError(c *cli.Context, err error) error {
	path := c.Args().First()
	switch {
	case errors.Is(err, store.ErrBusy):
		return &exitError{code: exitDict, cmd: commandName(c), msg: fmt.Sprintf("%s is busy: a kvbuild --publish (or another gc) is at work; try again when it is done", path)}
	case errors.Is(err, store.ErrNotStore), errors.Is(err, reader.ErrCorrupt):
		return &exitError{code: exitDict, cmd: commandName(c), msg: err.Error()}
	}
	return dictError(c, path, err)
}
