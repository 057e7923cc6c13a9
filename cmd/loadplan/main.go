// Command loadplan runs HCL load-test plans: validate, fmt, plan, apply, ui, demo, merge, report, deploy,
// completion, probe.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/loadplan/loadplan/run"
)

// Exit codes, k6's numbers where k6 has one so CI recipes carry over; a run's are run's.
const (
	exitOK          = run.ExitOK
	exitRuntime     = run.ExitRuntime     // runtime error: target unreachable at start, an output failed to start
	exitUsage       = 2                   // bad command-line usage
	exitSaturated   = run.ExitSaturated   // the generator could not keep the plan: figures not to be trusted
	exitThreshold   = run.ExitThreshold   // a threshold failed
	exitInvalidPlan = run.ExitInvalidPlan // invalid plan (also what validate exits with)
	exitInterrupted = run.ExitInterrupted // interrupted by a signal, after a graceful stop and a flushed summary
)

const usage = `loadplan — load tests as HCL plans

Usage:
  loadplan validate [--json] [PATH...]       parse and check plans (folders: *.loadplan.hcl and
                                             .hcl files with a plan block; other .hcl skipped)
  loadplan fmt [--check] [--diff] [PATH...]  canonical formatting
  loadplan plan [--json] FILE                show the compiled schedule; sends nothing
  loadplan apply [flags] FILE                run a plan; the exit code is the verdict (--ui :8089: live web page)
  loadplan ui [--addr :8089] [FOLDER]        web page: pick a plan, start, watch, stop, download (Locust's --web)
  loadplan demo [--addr 127.0.0.1:8000]      serve the built-in demo backend
  loadplan merge [flags] SUMMARY...          combine segment summaries and evaluate thresholds
  loadplan report -o FILE.html SUMMARY...    HTML report from a summary export or segment summaries
  loadplan compare [-json] BASE NEW          judge a run against a baseline, step by step (exit 99: regression)
  loadplan deploy kubernetes|compose PLAN --segments N
                                             print manifests that run the plan as N segments
  loadplan completion bash|zsh|fish          print a shell completion script
  loadplan import openapi|curl|har SOURCE    write a plan from an OpenAPI document, curl commands or a HAR
  loadplan probe [--wait DUR] URL            GET URL: exit 0 on 2xx/3xx (healthchecks, CI waits)
  loadplan version [-json]                   version, commit and build details

Run 'loadplan COMMAND -h' for a command's flags. Flags are written --name (one dash works too,
as -var does in Terraform); k6's -u, -d, -i, -e and -q are accepted beside --vus, --duration,
--iterations, --var and --quiet.
Exit codes: 0 ok, 1 runtime error, 2 usage, 98 generator saturated, 99 threshold failed,
104 invalid plan, 105 interrupted.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs a verb and returns the process exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "validate":
		return runValidate(rest, stdout, stderr)
	case "fmt":
		return runFmt(rest, stdout, stderr)
	case "plan":
		return runPlan(rest, stdout, stderr)
	case "apply", "run":
		return runApply(rest, stdout, stderr)
	case "ui", "web":
		return runUI(rest, stdout, stderr)
	case "demo":
		return runDemo(rest, stdout, stderr)
	case "merge":
		return runMerge(rest, stdout, stderr)
	case "report":
		return runReport(rest, stdout, stderr)
	case "compare":
		return runCompare(rest, stdout, stderr)
	case "deploy":
		return runDeploy(rest, stdout, stderr)
	case "completion":
		return runCompletion(rest, stdout, stderr)
	case "__complete": // what the completion scripts call (completion.go)
		return runComplete(rest, stdout)
	case "import":
		return runImport(rest, stdout, stderr)
	case "probe":
		return runProbe(rest, stdout, stderr)
	case "version", "-version", "--version":
		return runVersion(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "loadplan: unknown command %q\n\n%s", verb, usage)
	return exitUsage
}
