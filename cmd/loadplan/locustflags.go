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
	"u":            "--vus N (Locust's -u/--users; with --spawn-rate R to ramp to it)",
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
		if hint, ok := locustFlags[name]; ok {
			flagText, _, _ := strings.Cut(a, "=")
			return fmt.Errorf("%s is Locust's flag; loadplan's is %s", flagText, hint)
		}
	}
	return nil
}
