package metrics

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The formatting of figures for people lives here, with the metric kinds and units it depends on,
// so that the summary, the progress line and the threshold verdicts render a number alike without
// importing one another.

// FormatValue renders an aggregation of metric m for people: durations with a unit, rates of
// rate metrics as percentages, counts as integers.
func FormatValue(m Metric, agg string, v float64) string {
	info := m.Info()
	switch {
	case agg == "count":
		return strconv.FormatFloat(v, 'f', -1, 64)
	case agg == "rate" && info.Kind == Rate:
		return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
	case agg == "rate":
		return strconv.FormatFloat(v, 'f', 2, 64) + "/s"
	case info.Unit == Time && math.IsInf(v, 1):
		return "∞" // a request that got no response ranked there (Condition.Observe)
	case info.Unit == Time:
		return FormatMillis(v)
	case info.Unit == Bytes:
		return FormatBytes(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// FormatMillis renders a duration given in milliseconds the way k6 does: µs, ms, s or m+s.
func FormatMillis(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return "n/a"
	case ms == 0:
		return "0s"
	case ms < 1 && ms > 0:
		return strconv.FormatFloat(ms*1000, 'f', 0, 64) + "µs"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	case ms < 60000:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	}
	d := time.Duration(ms * float64(time.Millisecond)).Round(time.Second)
	return d.String()
}

// FormatBytes renders a byte count with a decimal unit (kB = 1000 B, as k6 does).
func FormatBytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + " " + units[i]
}

// SelectorString renders a tag selector the way k6 names a submetric, "{scenario:rest,step:quote}",
// tags sorted, or "" when empty.
func SelectorString(sel map[string]string) string {
	if len(sel) == 0 {
		return ""
	}
	names := make([]string, 0, len(sel))
	for n := range sel {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + ":" + sel[n])
	}
	b.WriteByte('}')
	return b.String()
}
