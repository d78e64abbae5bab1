package main

import (
	"context"
	"slices"
	"testing"
)

// Ensure that the long help (which documents every error) and each
// command's help stay as reviewed, and that the command line itself is
// handled: unknown commands, --version, completion.
func TestHelp(t *testing.T) {
	cases := []testCase{
		{name: "app help", args: []string{"--help"}},
		{name: "no command", args: nil},
		{name: "version", args: []string{"--version"}},
		{name: "help command", args: []string{"help", "count"}},
		{name: "unknown command", args: []string{"lookup", "$DICT"}},
		{name: "completion, unknown shell", args: []string{"completion", "fish"}},
		{name: "completion of commands", args: []string{"--generate-bash-completion"}},
		{name: "completion of flags", args: []string{"range", "-", "--generate-bash-completion"}},
		{name: "completion after --: left to the shell", args: []string{"get", "--", "--generate-bash-completion"}},
		{name: "completion of a flag prefix", args: []string{"range", "--f", "--generate-bash-completion"}},
		{name: "completion of a command prefix", args: []string{"c", "--generate-bash-completion"}},
		{name: "completion of a DICT argument: left to the shell", args: []string{"get", "--generate-bash-completion"}},
	}
	for _, cmd := range newApp(nil, nil, nil).Commands {
		cases = append(cases, testCase{name: cmd.Name + " help", args: []string{cmd.Name, "--help"}})
	}
	runGolden(t, "help", cases)
}

// Ensure that the completion scripts are printed for both shells.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh"} {
		r := kvlookup(context.Background(), "", "completion", sh)
		if r.code != 0 || r.stdout == "" {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", sh, r.code, len(r.stdout), r.stderr)
		}
	}
}

// Ensure that flags after positional arguments are moved in front of them,
// and that -- protects keys that start with "-".
func TestInterspersed(t *testing.T) {
	app := newApp(nil, nil, nil)
	for _, tc := range []struct{ in, want []string }{
		{[]string{"k", "range", "D", "--from", "a", "--to", "b"}, []string{"k", "range", "--from", "a", "--to", "b", "D"}},
		{[]string{"k", "-f", "json", "get", "D", "x", "--escape", "y"}, []string{"k", "-f", "json", "get", "--escape", "D", "x", "y"}},
		{[]string{"k", "get", "D", "--", "-x", "--escape"}, []string{"k", "get", "--", "D", "-x", "--escape"}},
		{[]string{"k", "fuzzy", "D", "t", "-d=2"}, []string{"k", "fuzzy", "-d=2", "D", "t"}},
		{[]string{"k", "get", "D", "-"}, []string{"k", "get", "D", "-"}},
		{[]string{"k", "get", "D", "--format"}, []string{"k", "get", "--format"}},
		{[]string{"k", "nosuch", "D", "--x"}, []string{"k", "nosuch", "D", "--x"}},
	} {
		if got := interspersed(app, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("interspersed(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
