package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time by release builds (.goreleaser.yaml, the Dockerfile) with
// -ldflags "-X main.version=… -X main.commit=… -X main.date=… -X main.treeState=…".
// A plain `go build`/`go install` leaves them empty and `loadplan version` reads the
// same facts from the build info the Go toolchain records (module version, VCS stamp).
var (
	commit    string // full VCS revision
	date      string // commit time, RFC 3339
	treeState string // "clean" or "dirty"
)

// buildVersion is what `loadplan version` reports. Unknown fields are empty, never invented:
// a binary built with -buildvcs=false or outside a checkout says it does not know its commit.
type buildVersion struct {
	Version  string `json:"version"`            // v1.2.3, a pseudo-version, or "dev"
	Commit   string `json:"commit,omitempty"`   // full revision
	Date     string `json:"date,omitempty"`     // commit time
	Modified *bool  `json:"modified,omitempty"` // uncommitted changes in the tree it was built from; nil: unknown
	Go       string `json:"go"`
	Platform string `json:"platform"` // GOOS/GOARCH
}

// readVersion combines the link-time variables (they win: a release build states its tag) with
// the build info (go install …@v1.2.3 records the module version; a build in a git checkout
// records vcs.revision, vcs.time and vcs.modified).
func readVersion(ldVersion, ldCommit, ldDate, ldTree string, bi *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{Version: ldVersion, Commit: ldCommit, Date: ldDate, Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	switch ldTree {
	case "clean":
		v.Modified = new(false)
	case "dirty":
		v.Modified = new(true)
	}
	if !ok || bi == nil {
		if v.Version == "" {
			v.Version = "dev"
		}
		return v
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	if (v.Version == "" || v.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if v.Commit == "" {
				v.Commit = s.Value
			}
		case "vcs.time":
			if v.Date == "" {
				v.Date = s.Value
			}
		case "vcs.modified":
			if v.Modified == nil {
				v.Modified = new(s.Value == "true")
			}
		}
	}
	return v
}

// String is the human line pair, k6-like: name, version, then where it came from.
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "loadplan %s\n", v.Version)
	switch {
	case v.Commit == "":
		b.WriteString("commit:   unknown (built without VCS information: outside a git checkout or with -buildvcs=false)\n")
	default:
		state := ""
		if v.Modified != nil {
			state = " (clean)"
			if *v.Modified {
				state = " (modified: uncommitted changes)"
			}
		}
		fmt.Fprintf(&b, "commit:   %s%s\n", v.Commit, state)
	}
	if v.Date != "" {
		fmt.Fprintf(&b, "date:     %s\n", v.Date)
	}
	fmt.Fprintf(&b, "built by: %s %s\n", v.Go, v.Platform)
	return b.String()
}

// runVersion prints the version; -json for scripts. `--version` and `-version` reach it too,
// as k6 and Terraform users type them.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the version as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan version [-json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadplan version: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	bi, ok := debug.ReadBuildInfo()
	v := readVersion(version, commit, date, treeState, bi, ok)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			fmt.Fprintln(stderr, "loadplan version:", err)
			return exitRuntime
		}
		return exitOK
	}
	fmt.Fprint(stdout, v)
	return exitOK
}
