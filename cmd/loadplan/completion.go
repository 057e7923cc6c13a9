package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/loadplan/loadplan/plan"
)

// Shell completion: `loadplan completion bash|zsh|fish` prints a script that asks the binary
// itself what to complete (`loadplan __complete WORD...`, the words after "loadplan" up to the
// one under the cursor), so that the verbs, each verb's flags, plan files and the scenario names
// of the plan on the command line stay exactly what this binary knows.

// verbs are the verbs completed first (the aliases run, help are left out).
var verbs = []string{"validate", "fmt", "plan", "apply", "ui", "demo", "merge", "compare", "report", "deploy", "import", "completion", "probe", "version"}

const bashCompletion = `# bash completion for loadplan: source it, or save it as
# /etc/bash_completion.d/loadplan (loadplan completion bash > ...).
_loadplan() {
  local IFS=$'\n' cur="${COMP_WORDS[COMP_CWORD]}"
  COMPREPLY=($(loadplan __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  if [[ ${#COMPREPLY[@]} -eq 1 && ( ${COMPREPLY[0]} == */ || ${COMPREPLY[0]} == *= ) ]]; then
    compopt -o nospace 2>/dev/null
  fi
}
complete -F _loadplan loadplan
`

const zshCompletion = `#compdef loadplan
# zsh completion for loadplan: save it as _loadplan in a folder of $fpath
# (loadplan completion zsh > "${fpath[1]}/_loadplan"), or source it after compinit.
_loadplan() {
  local -a cands
  cands=("${(@f)$(loadplan __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -Q -- "${cands[@]}"
}
if [[ "$funcstack[1]" == "_loadplan" ]]; then
  _loadplan "$@"
else
  compdef _loadplan loadplan
fi
`

const fishCompletion = `# fish completion for loadplan: loadplan completion fish > ~/.config/fish/completions/loadplan.fish
complete -c loadplan -f -a '(loadplan __complete (commandline -opc)[2..-1] (commandline -ct))'
`

// runCompletion prints the completion script of a shell.
func runCompletion(args []string, stdout, stderr io.Writer) int {
	scripts := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}
	if len(args) != 1 || scripts[args[0]] == "" {
		fmt.Fprintln(stderr, "Usage: loadplan completion bash|zsh|fish")
		fmt.Fprintln(stderr, "Prints the shell's completion script: verbs, flags, plan files (*.hcl) and the plan's scenario names.")
		return exitUsage
	}
	fmt.Fprint(stdout, scripts[args[0]])
	return exitOK
}

// runComplete answers the completion scripts: words are the command line after "loadplan", the
// last one the word being completed (maybe empty). It prints one candidate a line.
func runComplete(words []string, stdout io.Writer) int {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var out []string
	switch {
	case len(words) == 1:
		out = withPrefix(verbs, cur)
	case words[0] == "completion":
		out = withPrefix([]string{"bash", "zsh", "fish"}, cur)
	case isFlag(words[len(words)-2], "scenario"):
		out = withPrefix(scenarioNames(words[1:len(words)-1]), cur)
	case strings.HasPrefix(cur, "-"):
		out = withPrefix(verbFlags(words[0]), cur)
	default:
		out = planFiles(cur)
	}
	for _, c := range out {
		fmt.Fprintln(stdout, c)
	}
	return exitOK
}

func isFlag(word, name string) bool { return word == "--"+name || word == "-"+name }

func withPrefix(cands []string, prefix string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// flagLine finds a flag in printFlags' help: "  -u, --vus N" or "  --demo".
var flagLine = regexp.MustCompile(`(?m)^  (?:-(\w), )?(--[\w-]+)`)

// verbFlags returns a verb's flags as its help lists them (printFlags' style), short ones too.
func verbFlags(verb string) []string {
	switch verb {
	case "validate", "fmt", "plan", "apply", "run", "demo", "merge", "probe":
	default:
		return nil
	}
	var help bytes.Buffer
	dispatch([]string{verb, "-h"}, io.Discard, &help)
	var out []string
	for _, m := range flagLine.FindAllStringSubmatch(help.String(), -1) {
		out = append(out, m[2])
		if m[1] != "" {
			out = append(out, "-"+m[1])
		}
	}
	sort.Strings(out)
	return out
}

// scenarioNames returns the scenario labels of the plan files among words (read without loading
// the plan: a plan that needs a variable still completes).
func scenarioNames(words []string) []string {
	var names []string
	for _, w := range words {
		if !strings.HasSuffix(w, ".hcl") {
			continue
		}
		src, diags := plan.ReadPlanFile(w)
		if diags.HasErrors() {
			continue
		}
		f, _ := plan.ParsePlanSource(w, src)
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			for _, b := range body.Blocks {
				if b.Type == "scenario" && len(b.Labels) == 1 {
					names = append(names, b.Labels[0])
				}
			}
		}
	}
	return names
}

// planFiles returns the folders (with a trailing /) and *.hcl files that start with prefix.
func planFiles(prefix string) []string {
	matches, _ := filepath.Glob(globEscape(prefix) + "*")
	var out []string
	for _, m := range matches {
		st, err := os.Stat(m)
		switch {
		case err != nil:
		case st.IsDir() && !strings.HasPrefix(filepath.Base(m), "."):
			out = append(out, m+"/")
		case !st.IsDir() && strings.HasSuffix(m, ".hcl"):
			out = append(out, m)
		}
	}
	return out
}

// globEscape escapes the glob metacharacters of a typed prefix.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`)
	return r.Replace(s)
}
