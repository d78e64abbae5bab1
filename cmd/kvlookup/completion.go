package main

import (
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
// work when sourced from a pipe.
const bashCompletion = `# bash completion for kvlookup
_kvlookup_bash_autocomplete() {
  if [[ "${COMP_WORDS[0]}" != "source" ]]; then
    local cur opts base words
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    if declare -F _init_completion >/dev/null 2>&1; then
      _init_completion -n "=:" || return
    else
      COMPREPLY=()
      _get_comp_words_by_ref -n "=:" cur prev words cword
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
