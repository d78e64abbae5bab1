package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/internal/cliargs"
	"github.com/kvdict/kvdict/internal/version"
)

// Exit statuses. They are part of kvlookup's interface: scripts test them,
// and appDescription documents them.
const (
	exitOK          = 0   // success
	exitNotFound    = 1   // get: at least one key is not in the dictionary
	exitUsage       = 2   // bad command line: unknown command or flag, missing argument, bad regex
	exitDict        = 3   // the dictionary cannot be opened, or is corrupt
	exitIO          = 4   // reading stdin or writing stdout failed
	exitInterrupted = 130 // SIGINT or SIGTERM (128 + SIGINT, as shells report it)
)

const appDescription = `kvlookup reads a kvdict dictionary: the directory that kvbuild writes
(a MANIFEST plus FST and value-log files). Opening a dictionary maps it
read-only and costs well under a millisecond whatever its size, so each
command simply opens DICT, answers and exits.

DICT may also be a store, the directory "kvbuild --publish" writes: every
command then reads the store's current version (info shows which, as
store_version). "kvlookup versions STORE" lists its versions and
"kvlookup gc STORE" removes old ones.

Put flags anywhere after the command name (kvlookup range DICT --from a).
Put -- before a key or prefix that starts with "-" (kvlookup get DICT -- -1).

OUTPUT
   --format tsv (the default) prints one "key<TAB>value" line per pair;
   "get DICT KEY..." prints only the values, one per line. Keys and values
   are written byte for byte: a TAB or newline inside them is printed as is.
   With --escape, backslash, TAB, newline and carriage return inside keys and
   values are printed as \\ \t \n \r, the rule "kvbuild --unescape" reads, so
   "kvlookup dump --escape DICT | kvbuild --unescape" rebuilds the same
   dictionary. --escape also unescapes the keys you pass (KEY arguments,
   --prefix, --from, --to, PREFIX, and the keys read from stdin by get), so
   escaped output can be fed back in; a backslash before any other character
   is kept as it is. Other bytes (control characters, invalid UTF-8) are
   never changed in TSV: use --format json to see them safely.

   --keys-only (-k) on dump, prefix, range, regex and fuzzy prints the keys
   alone, one per line (JSON: {"key":...}), without reading any value.
   --format raw (get DICT KEY only) prints one value's bytes exactly: no
   newline, no escaping, for extracting a binary value to a file.

   --format json prints one JSON object per line ("JSON lines"):
      {"key":"apple","value":"red"}
   A key or value that is valid UTF-8 is a JSON string (control characters,
   quotes, backslashes, U+2028 and U+2029 escaped). One that is not valid
   UTF-8 is written instead as standard base64 (RFC 4648, with padding) in a
   field whose name ends in _b64, so every byte survives:
      {"key_b64":"AP8=","value":"binary key"}
   A reader of the output checks for "key" or "key_b64" (and "value" or
   "value_b64"); decoding is exact and reversible. A key absent from the
   dictionary (get --missing) has "value":null.

EXIT STATUS
   0    success (verify: the dictionary is intact).
   1    get: at least one key was not found (the values of the others were
        still printed).
   2    usage error: unknown command or flag, missing or extra argument, bad
        flag value, invalid regular expression or fuzzy distance.
   3    the dictionary cannot be opened, or is corrupt (verify found damage,
        or a read failed a check).
   4    reading stdin or writing stdout failed (for example, disk full).
   130  interrupted by SIGINT or SIGTERM.

ERRORS
   Errors go to stderr, each line starting with "kvlookup COMMAND:"; a usage
   error adds a line pointing to "kvlookup COMMAND --help".

   DICT: no such file or directory (exit 3)
      DICT is not there. Check the path; build a dictionary with kvbuild.
   DICT: permission denied (exit 3)
      You may not read the dictionary directory or one of its files.
   DICT is not a kvdict dictionary: it has no MANIFEST file (exit 3)
      DICT is a directory, but not one kvbuild wrote (or the MANIFEST was
      deleted). Check the path: a dictionary is the directory kvbuild writes.
   DICT is not a kvdict dictionary: ... bad magic ... (exit 3)
      DICT is a plain file (such as the TSV input), or a file in it does not
      start with kvdict's magic bytes: it is not a kvdict file.
   DICT needs a newer kvlookup (exit 3)
      The dictionary was written by a newer format version, or uses a format
      feature this build does not know. Upgrade kvlookup (and the workers).
   DICT is corrupt: FILE: ... (exit 3)
      A file is missing, truncated, from another build, has a bad checksum,
      or holds an offset outside itself. The message names the file and,
      where there is one, the offset or key. Run "kvlookup verify DICT" for a
      full check, then rebuild the dictionary with kvbuild or copy it again
      from a good source.
   key not found: "KEY" (exit 1)
      get: the key is not in the dictionary. Keys are exact bytes: check
      case, trailing spaces and a \r from a Windows file (batch mode strips
      one \r at the end of each line); use --escape for keys with TABs.
   N of M keys not found (exit 1)
      get batch mode: the summary of the keys that were absent. Add
      --missing to see which, in place in the output.
   missing command / unknown command "X" (exit 2)
      See the COMMANDS below.
   missing DICT argument / missing EXPR argument / ... (exit 2)
      A required argument was not given; see "kvlookup COMMAND --help".
   unexpected argument "X" (exit 2)
      More arguments than the command takes; quote patterns for the shell.
   flag provided but not defined: -X (exit 2)
      Unknown flag. Note that a key starting with "-" must follow "--".
   --format must be tsv or json, not "X" (exit 2)
   invalid regular expression: ... (exit 2)
      regex: EXPR is not a supported pattern; see "kvlookup regex --help".
   invalid fuzzy search: ... (exit 2)
      fuzzy: the distance is out of range or TERM is too long.
   invalid value "X" for flag -NAME: parse error (exit 2)
      The flag takes a number (--limit, -n, --seed, --distance).
   flag needs an argument: -NAME (exit 2)
      A flag that takes a value was the last word of the command line.
   -n must be at least 1 / --limit must not be negative (exit 2)
   unsupported shell "X" (exit 2)
      completion: only bash and zsh scripts are provided.
   reading stdin: ... / writing output: ... (exit 4)
      An I/O error outside the dictionary, such as a full disk.
   interrupted (exit 130)
      Ctrl-C or SIGTERM stopped a long scan; partial output was flushed.`

// newApp returns kvlookup's command-line application. Input and output are
// injected so that tests run commands in-process.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:                 "kvlookup",
		Usage:                "query a kvdict dictionary: lookups, scans, samples, info, verify",
		UsageText:            "kvlookup COMMAND [options] DICT [arguments...]",
		Description:          appDescription,
		Version:              toolVersion(),
		Flags:                outputFlags(),
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		Suggest:              true,
		Commands: []*cli.Command{
			getCommand(),
			prefixCommand(),
			rangeCommand(),
			regexCommand(),
			fuzzyCommand(),
			dumpCommand(),
			countCommand(),
			sampleCommand(),
			infoCommand(),
			verifyCommand(),
			warmCommand(),
			versionsCommand(),
			gcCommand(),
			completionCommand(),
		},
		// Errors are printed once, by run, which also picks the exit status:
		// never let urfave/cli call os.Exit or print them itself.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf(c, "unknown command %q", c.Args().First())
			}
			return usageErrorf(c, "missing command: get, prefix, range, regex, fuzzy, dump, count, sample, info, verify, warm, versions, gc or completion")
		},
	}
}

// run runs kvlookup with args (args[0] is the program name) and returns
// the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if n := len(args); n > 1 && args[n-1] == "--generate-bash-completion" && slices.Contains(args, "--") {
		return exitOK // after "--" only arguments follow: the shell completes file names
	}
	app := newApp(stdin, stdout, stderr)
	app.BashComplete = completer(args, app.Flags, app.Commands)
	for _, cmd := range app.Commands {
		cmd.HideHelpCommand = true // so that "help" is never taken for a KEY
		cmd.OnUsageError = onUsageError
		cmd.BashComplete = completer(args, cmd.Flags, nil)
	}
	err := app.RunContext(ctx, interspersed(app, args))
	return report(ctx, stderr, err)
}

// exitError is an error with the exit status it causes. An empty msg means
// the problem was already reported (get prints each missing key).
type exitError struct {
	code int
	cmd  string // "get", or "" for the app itself
	msg  string
	hint bool // print a pointer to --help after msg
}

func (e *exitError) Error() string { return e.msg }

func commandName(c *cli.Context) string {
	if c != nil && c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		return c.Command.Name
	}
	return ""
}

// usageErrorf reports a bad command line (exit 2).
func usageErrorf(c *cli.Context, format string, args ...any) error {
	return &exitError{code: exitUsage, cmd: commandName(c), msg: fmt.Sprintf(format, args...), hint: true}
}

// ioError reports a failure to read stdin or write stdout (exit 4).
func ioError(c *cli.Context, what string, err error) error {
	return &exitError{code: exitIO, cmd: commandName(c), msg: what + ": " + err.Error()}
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return &exitError{code: exitUsage, cmd: commandName(c), msg: err.Error(), hint: true}
}

// report prints err (if any) to stderr and returns the exit status.
func report(ctx context.Context, stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "kvlookup: interrupted")
		return exitInterrupted
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// urfave/cli's own errors ("No help topic for ...", a failed
		// required flag) are all about the command line.
		ee = &exitError{code: exitUsage, msg: err.Error(), hint: true}
		var ec cli.ExitCoder
		if errors.As(err, &ec) && ec.ExitCode() == 0 {
			return exitOK
		}
	}
	if ee.msg != "" {
		prog := "kvlookup"
		if ee.cmd != "" {
			prog += " " + ee.cmd
		}
		for line := range strings.Lines(ee.msg) { // a verify error can hold several
			fmt.Fprintf(stderr, "%s: %s\n", prog, strings.TrimSuffix(line, "\n"))
		}
		if ee.hint {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", prog)
		}
	}
	return ee.code
}

// interspersed lets flags follow positional arguments, as in
// `kvlookup range DICT --from a --to b`. urfave/cli v2 parses with package
// flag, which stops at the first positional argument; this moves the flags
// given after the command name in front of its positional arguments. "--"
// ends the flags, so keys that start with "-" can still be passed.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return args // completion requests must keep their last argument
	}
	out := []string{args[0]}
	i := 1
	for i < len(args) && cliargs.IsFlag(args[i]) { // flags before the command
		out = append(out, args[i])
		if cliargs.TakesValue(app.Flags, args[i]) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
		i++
	}
	if i >= len(args) {
		return out
	}
	cmd := app.Command(args[i])
	out = append(out, args[i])
	i++
	if cmd == nil {
		return append(out, args[i:]...)
	}
	return append(out, cliargs.Reorder(cmd.Flags, args[i:])...)
}

// toolVersion is the version string shown by --version and info.
func toolVersion() string { return version.String() }
