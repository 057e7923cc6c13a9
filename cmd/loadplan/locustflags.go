package main

import (
	"flag"
	"fmt"
	"strings"
)

// locustFlags maps the flags of Locust's command line that loadplan spells differently (or does
// not need) to what to write instead. A team moving a runner script from Locust gets one line
// naming loadplan's flag rather than "flag provided but not defined" and the whole usage.
var locustFlags = map[string]string{
	"users":        "--vus N (with --spawn-rate R to ramp to it)",
	"r":            "--spawn-rate R (Locust's -r; with --vus N)",
	"hatch-rate":   "--spawn-rate R (with --vus N)",
	"run-time":     "--duration D, e.g. --duration 1m (Go durations: 90s, 1m30s, 2h)",
	"t":            "--duration D (Locust's -t/--run-time), e.g. --duration 1m",
	"H":            "--host URL (it sets var.host)",
	"headless":     "nothing: apply runs headless unless --ui ADDR asks for the live web page; drop the flag",
	"web-port":     "--ui :PORT (apply's live page) or loadplan ui --addr :PORT (Locust's web mode)",
	"P":            "--ui :PORT (apply's live page, Locust's -P/--web-port) or loadplan ui --addr :PORT",
	"web-host":     "--ui HOST:PORT (a non-loopback HOST needs --ui-token)",
	"autostart":    "nothing: loadplan apply starts at once; drop the flag",
	"f":            "the plan file as an argument: loadplan apply [flags] PLAN.hcl",
	"locustfile":   "the plan file as an argument: loadplan apply [flags] PLAN.hcl",
	"tags":         "--tag NAME (repeat it for several tags)",
	"T":            "--tag NAME (repeat it for several tags)",
	"exclude-tags": "--tag NAME or --scenario NAME for what to run (loadplan selects; it does not exclude)",
	"E":            "--tag NAME or --scenario NAME for what to run (loadplan selects; it does not exclude)",
	"csv":          "--out csv=FOLDER/ (or an output \"csv\" block in the plan)",
	"json":         "--out json=FILE",
	"loglevel":     "nothing: loadplan prints its messages on stderr; --quiet silences the informational ones",
}

// locustFlagHint returns an error naming loadplan's flag for the first Locust flag in args that
// fs does not define; nil when there is none. It looks only at flags before a "--" and skips
// the values of fs's own flags, so a -var value is never mistaken for a flag.
func locustFlagHint(fs *flag.FlagSet, args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
				i++ // the flag's value follows
			}
			continue
		}
		flagText, _, _ := strings.Cut(a, "=")
		if hint, ok := locustFlags[name]; ok {
			return fmt.Errorf("%s is Locust's flag; loadplan's is %s", flagText, hint)
		}
		if hint, ok := k6Hints[name]; ok {
			return fmt.Errorf("%s is k6's flag; loadplan's is %s", flagText, hint)
		}
		if hint, ok := terraformHints[name]; ok {
			return fmt.Errorf("%s is Terraform's flag; loadplan's is %s", flagText, hint)
		}
		if name != "h" && name != "help" {
			return fmt.Errorf("%s: no such flag%s (loadplan %s -h lists them)", flagText, nearestFlag(fs, name), fs.Name())
		}
	}
	return nil
}

// nearestFlag is " — did you mean --NAME?" for the defined flag closest to name (at most a
// third of its letters off), "" when none is close.
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestD := "", len(name)/3+2
	fs.VisitAll(func(f *flag.Flag) {
		if d := editDistance(name, f.Name); d < bestD && len(f.Name) > 1 {
			best, bestD = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return "; did you mean --" + best + "?"
}

// editDistance is the edit distance of a and b counting a transposition as one edit (optimal
// string alignment; flag names are short).
func editDistance(a, b string) int {
	var prev2 []int
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // a transposition: --vsu is --vus
			}
		}
		prev2, prev = prev, cur
	}
	return prev[len(b)]
}
