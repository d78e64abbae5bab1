package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

const completionDescription = `Prints a shell completion script for kvlookup. Load it with
   bash:  source <(kvlookup completion bash)     (or save it in
          /etc/bash_completion.d/kvlookup)
   zsh:   source <(kvlookup completion zsh)      (or save it as _kvlookup
          in a directory of your $fpath)
Commands and flags complete; DICT and other arguments complete as file
names. The scripts ask kvlookup itself (kvlookup ... --generate-bash-completion),
so they stay right when kvlookup is upgraded.`

// The scripts are urfave/cli v2's autocomplete/bash_autocomplete and
// zsh_autocomplete (MIT), with the program name filled in so that they
// work when sourced from a pipe, and without the bash script's dependency
// on the bash-completion package.
const bashCompletion = `# bash completion for kvlookup
_kvlookup_bash_autocomplete() {
  if [[ "${COMP_WORDS[0]}" != "source" ]]; then
    local cur opts base words
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    if declare -F _init_completion >/dev/null 2>&1; then
      _init_completion -n "=:" || return
    else # without the bash-completion package
      words=("${COMP_WORDS[@]}")
      cword=$COMP_CWORD
    fi
    words=("${words[@]:0:$cword}")
    if [[ "$cur" == "-"* ]]; then
      requestComp="${words[*]} ${cur} --generate-bash-completion"
    else
      requestComp="${words[*]} --generate-bash-completion"
    fi
    opts=$(eval "${requestComp}" 2>/dev/null)
    COMPREPLY=($(compgen -W "${opts}" -- ${cur}))
    return 0
  fi
}
complete -o bashdefault -o default -o nospace -F _kvlookup_bash_autocomplete kvlookup
`

const zshCompletion = `#compdef kvlookup
# zsh completion for kvlookup
_kvlookup_zsh_autocomplete() {
  local -a opts
  local cur
  cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion)}")
  fi

  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _kvlookup_zsh_autocomplete kvlookup
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:        "completion",
		Usage:       "print the shell completion script (bash or zsh)",
		ArgsUsage:   "bash|zsh",
		Description: completionDescription,
		Action: func(c *cli.Context) error {
			if err := wantArgs(c, "SHELL"); err != nil {
				return err
			}
			var script string
			switch sh := c.Args().First(); strings.TrimPrefix(sh, "/bin/") {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			default:
				return usageErrorf(c, "unsupported shell %q: want bash or zsh", sh)
			}
			if _, err := c.App.Writer.Write([]byte(script)); err != nil {
				return ioError(c, "writing output", err)
			}
			return nil
		},
	}
}

// completer answers "kvlookup ... WORD --generate-bash-completion", the
// request the completion scripts send: flag names when WORD starts with
// "-", else command names (or nothing, so that the shell completes file
// names). It reads args itself, where urfave/cli's default reads os.Args.
func completer(args []string, flags []cli.Flag, cmds []*cli.Command) cli.BashCompleteFunc {
	return func(c *cli.Context) {
		var word string
		if n := len(args); n >= 3 {
			word = args[n-2]
		}
		if strings.HasPrefix(word, "-") {
			cur := strings.TrimLeft(word, "-")
			for _, f := range append(flags, cli.HelpFlag) {
				for _, name := range f.Names() {
					dash := "--"
					if len(name) == 1 {
						dash = "-"
					}
					if strings.HasPrefix(name, cur) && (dash == "--" || !strings.HasPrefix(word, "--")) {
						fmt.Fprintln(c.App.Writer, dash+name)
					}
				}
			}
			return
		}
		for _, cmd := range cmds {
			if !cmd.Hidden && strings.HasPrefix(cmd.Name, word) {
				fmt.Fprintln(c.App.Writer, cmd.Name)
			}
		}
	}
}
