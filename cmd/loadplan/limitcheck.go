package main

import (
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/plan"
)

// fileLimit is the process's open-file limit (RLIMIT_NOFILE) after apply raised it.
type fileLimit struct {
	soft, hard uint64
	known      bool // false where the platform has no such limit or it could not be read
	// kernelMax is the most any process may have (linux fs.nr_open), 0 when unknown: a hard limit
	// cannot be raised past it even by root.
	kernelMax uint64
}

// memLimit is the memory a run may take: what the kernel says is available.
type memLimit struct {
	bytes  uint64
	source string // where the figure comes from, for the message
	known  bool   // false where it cannot be read: the memory check is skipped
}

// checkResources raises the open-file soft limit to the hard limit, then checks that the plan's
// peak fits in it and in the available memory. It prints one line per problem to w and reports
// whether the run may start. apply calls it before any output starts or any request is sent.
func checkResources(p *plan.Plan, opts *applyOptions, env map[string]string, w io.Writer) bool {
	in := needInput{scenarios: opts.scenarios, maxVUs: opts.vus, duration: opts.duration, segment: opts.segment,
		outs: append(append([]*plan.OutputBlock(nil), p.Outputs...), opts.outs...)}
	for _, f := range []string{opts.export, opts.junit, opts.segmentSum} {
		if f != "" {
			in.exports++
		}
	}
	if opts.demo {
		// The demo backend runs in this process: each connection to it costs two descriptors.
		in.local = hostPort(env[plan.EnvVarPrefix+"host"])
	}
	problems := fitProblems(p, in, raiseFileLimit(), availableMemory())
	for _, msg := range problems {
		fmt.Fprintln(w, "loadplan:", msg)
	}
	return len(problems) == 0
}

// fitProblems returns a message for each limit the plan's peak does not fit in: what it needs
// and why, the limit, and how to fix it. It is pure, so the messages are table-tested. A plan the
// executor cannot compile has no peak to check: run.New reports why, as `plan` does.
func fitProblems(p *plan.Plan, in needInput, fl fileLimit, mem memLimit) []string {
	need, err := estimateNeed(p, in)
	if err != nil {
		return nil
	}
	var out []string
	if fl.known && uint64(need.files()) > fl.soft {
		fits := fitVUs(p, in, func(n resourceNeed) bool { return uint64(n.files()) <= fl.soft })
		out = append(out, fmt.Sprintf("the plan needs about %s open files at peak (%s) but the open-file limit is %s (hard %s); %s",
			thousands(need.files()), fileParts(need), limitText(fl.soft), limitText(fl.hard), fileFix(need, fl, fits)))
	}
	if mem.known && need.memory() > mem.bytes {
		fits := fitVUs(p, in, func(n resourceNeed) bool { return n.memory() <= mem.bytes })
		parts := []string{thousands(need.memVUs) + " VUs × 25 KB"}
		if need.memWS > 0 {
			parts = append(parts, thousands(need.memWS)+" WebSocket sessions × 50 KB")
		}
		parts = append(parts, "32 MB for the process")
		out = append(out, fmt.Sprintf("the plan needs about %s of memory at peak (%s) but %s is available (%s); lower the plan's peak VUs%s or split the load across machines with --segment",
			byteSize(need.memory()), strings.Join(parts, " + "), byteSize(mem.bytes), mem.source, vusHint(fits)))
	}
	return out
}

// fileParts says where the open files go, e.g. "1,000 VUs on 1 target + 32 for the runtime".
func fileParts(n resourceNeed) string {
	var parts []string
	switch {
	case n.conns == 0:
	case n.conns == n.vus*n.dests:
		parts = append(parts, fmt.Sprintf("%s VUs on %d target%s", thousands(n.vus), n.dests, plural(n.dests)))
	default:
		parts = append(parts, fmt.Sprintf("%s connections of %s VUs", thousands(n.conns), thousands(n.vus)))
	}
	if n.ws > 0 {
		parts = append(parts, thousands(n.ws)+" WebSocket sessions")
	}
	if n.local > 0 {
		parts = append(parts, thousands(n.local)+" for the demo backend's end of them")
	}
	if n.outFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d for outputs", n.outFiles))
	}
	parts = append(parts, fmt.Sprintf("%d for the runtime", runtimeFiles))
	return strings.Join(parts, " + ")
}

// fileFix says how to make the plan fit the open-file limit.
func fileFix(need resourceNeed, fl fileLimit, fits int) string {
	files := uint64(need.files())
	if fl.kernelMax > 0 && files > fl.kernelMax {
		return fmt.Sprintf("that is more than the kernel allows one process (fs.nr_open %s): lower the plan's peak VUs%s or split the load across instances with --segment",
			limitText(fl.kernelMax), vusHint(fits))
	}
	// A round figure with some room: the next power of two above need + 25 %, at least 1024.
	raise := uint64(1) << bits.Len64(files+files/4)
	raise = max(raise, 1024)
	if fl.kernelMax > 0 {
		raise = min(raise, fl.kernelMax)
	}
	how := fmt.Sprintf("raise it with `ulimit -n %d` in the shell that starts loadplan", raise)
	if raise > fl.hard {
		how += fmt.Sprintf(" (above the hard limit that needs root: nofile in /etc/security/limits.conf, or `--ulimit nofile=%d` in docker)", raise)
	}
	return how + " or lower the plan's peak VUs" + vusHint(fits)
}

// vusHint names the --vus cap that fits, "" when none does.
func vusHint(fits int) string {
	if fits < 1 {
		return ""
	}
	return fmt.Sprintf(" (--vus %d fits)", fits)
}

// fitVUs returns the largest --vus cap under which ok holds for the plan's estimate, 0 when even
// one VU per load does not fit. The estimate grows with the cap, so a binary search finds it;
// each probe compiles the schedule with that cap, which sends nothing.
func fitVUs(p *plan.Plan, in needInput, ok func(resourceNeed) bool) int {
	hi := maxCount // --vus caps each load, whose peaks may come at other times than the sum's
	if in.maxVUs > 0 {
		hi = min(hi, in.maxVUs)
	}
	lo := 0
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		c := in
		c.maxVUs = mid
		if n, err := estimateNeed(p, c); err == nil && ok(n) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// limitText formats a limit; RLIM_INFINITY reads "unlimited".
func limitText(v uint64) string {
	if v >= 1<<62 {
		return "unlimited"
	}
	return thousands(int(v))
}

// byteSize formats bytes in binary units with one decimal: "24.3 GiB".
func byteSize(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	v, i := float64(b)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}

// hostPort returns the host:port a URL dials, "" when it has none.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" || u.Scheme == "wss" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// thousands formats n with comma separators: 1064 → "1,064".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
