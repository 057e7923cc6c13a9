package csv

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/metrics"
)

// The Locust files are written as Locust 2.x writes them, so that a script that reads Locust's
// CSV files reads these unchanged: Python's csv module's dialect (CRLF line ends, a field quoted
// only when it holds a comma, a quote or a line break), Locust's columns in Locust's order, and
// every figure as Locust computes and Python prints it:
//
//   - response times are bucketed as Locust's bucket_response_time does (whole ms below 100 ms,
//     then two significant digits), and the median and the percentile columns are read from
//     those buckets as median_from_dict and calculate_response_time_percentile read them: whole
//     numbers, the median clamped into [min, max];
//   - the average, min and max response times, the average content size and the rates are
//     Python floats printed by repr (pyFloat): "15.0", "0.4521", "1e-05"; a count is an int;
//     a figure Locust leaves at its int zero (no minimum yet) is "0";
//   - a row without requests has "N/A" in its percentile columns.
//
// Written from Locust's documented columns and its locust/stats.py (StatsEntry, StatsCSV), not
// from its code; testdata/locust-2.*.csv hold the header rows of a real Locust run.

// crlf ends every row, as Python's csv.writer does by default.
const crlf = "\r\n"

// entry is one row of Locust's requests table (a StatsEntry): one (method, name).
type entry struct {
	method, name string
	n, fails     uint64
	none         uint64  // requests without a response time (no response): out of the times
	sum          float64 // of response times, ms
	min, max     float64 // ms; min valid when timed > 0
	timed        uint64  // n - none as Locust counts it, kept apart for merged rows
	content      float64 // body bytes of the responses
	buckets      map[int64]uint64
}

// bucket is Locust's bucket_response_time: whole ms below 100 ms, then two significant digits
// (147 → 150, 3432 → 3400), Python's round (half to even).
func bucket(ms float64) int64 {
	switch {
	case ms < 100:
		return int64(math.RoundToEven(ms))
	case ms < 1000:
		return int64(math.RoundToEven(ms/10)) * 10
	case ms < 10000:
		return int64(math.RoundToEven(ms/100)) * 100
	}
	return int64(math.RoundToEven(ms/1000)) * 1000
}

// time records one response time in ms.
func (e *entry) time(ms float64) {
	if e.buckets == nil {
		e.buckets = make(map[int64]uint64)
	}
	if e.timed == 0 || ms < e.min {
		e.min = ms
	}
	e.max = max(e.max, ms)
	e.timed++
	e.sum += ms
	e.buckets[bucket(ms)]++
}

// merge adds o into e (the Aggregated row, and the running totals of the history).
func (e *entry) merge(o *entry) {
	if o.timed > 0 {
		if e.timed == 0 || o.min < e.min {
			e.min = o.min
		}
		e.max = max(e.max, o.max)
	}
	e.n += o.n
	e.fails += o.fails
	e.none += o.none
	e.timed += o.timed
	e.sum += o.sum
	e.content += o.content
	if len(o.buckets) > 0 && e.buckets == nil {
		e.buckets = make(map[int64]uint64, len(o.buckets))
	}
	for k, c := range o.buckets {
		e.buckets[k] += c
	}
}

func (e *entry) keys() []int64 {
	ks := make([]int64, 0, len(e.buckets))
	for k := range e.buckets {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// percentile is calculate_response_time_percentile: the bucket at which the requests above it
// are no more than int(n*q); 0 without times.
func (e *entry) percentile(ks []int64, q float64) int64 {
	want := uint64(float64(e.timed) * q)
	var seen uint64
	for i := len(ks) - 1; i >= 0; i-- {
		seen += e.buckets[ks[i]]
		if e.timed-seen <= want {
			return ks[i]
		}
	}
	return 0
}

// appendMedian appends median_response_time: the middle bucket, clamped into [min, max] (then
// a float, as Locust's min and max are).
func (e *entry) appendMedian(b []byte, ks []int64) []byte {
	if len(ks) == 0 {
		return append(b, '0')
	}
	pos := float64(e.timed-1) / 2
	k := ks[len(ks)-1]
	for _, key := range ks {
		c := float64(e.buckets[key])
		if pos < c {
			k = key
			break
		}
		pos -= c
	}
	switch m := float64(k); {
	case m > e.max:
		return appendPyFloat(b, e.max)
	case m < e.min:
		return appendPyFloat(b, e.min)
	}
	return strconv.AppendInt(b, k, 10)
}

// appendPercentiles appends ",p50,...,p100", or N/A for each when the row has no requests.
func (e *entry) appendPercentiles(b []byte, ks []int64) []byte {
	for _, q := range percentiles {
		b = append(b, ',')
		if e.n == 0 {
			b = append(b, "N/A"...)
		} else {
			b = strconv.AppendInt(b, e.percentile(ks, q), 10)
		}
	}
	return b
}

// appendTotals appends the columns the requests and history rows share: ",Request Count,
// Failure Count,Median,Average,Min,Max,Average Content Size".
func (e *entry) appendTotals(b []byte, ks []int64) []byte {
	b = append(b, ',')
	b = strconv.AppendUint(b, e.n, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, e.fails, 10)
	b = append(b, ',')
	b = e.appendMedian(b, ks)
	b = append(b, ',')
	if e.timed > 0 {
		b = appendPyFloat(b, e.sum/float64(e.timed))
	} else {
		b = append(b, "0.0"...)
	}
	b = append(b, ',')
	b = appendPyNum(b, e.min) // `min_response_time or 0`
	b = append(b, ',')
	b = appendPyNum(b, e.max)
	b = append(b, ',')
	if e.n == 0 {
		return append(b, '0')
	}
	return appendPyFloat(b, e.content/float64(e.n))
}

// appendPyNum appends a Locust figure that starts as the int 0 and becomes a float: "0" while
// it is zero.
func appendPyNum(b []byte, v float64) []byte {
	if v == 0 {
		return append(b, '0')
	}
	return appendPyFloat(b, v)
}

// appendPyFloat appends v as Python's repr(float) prints it: the shortest digits that read back
// as v, in fixed notation with at least one decimal ("15.0") for exponents -4..15, else in
// scientific notation with a two-digit exponent at least ("1e-05", "1.5e+16").
func appendPyFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "nan"...)
	case math.IsInf(v, 1):
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		return append(b, "-inf"...)
	}
	e := strconv.FormatFloat(v, 'e', -1, 64) // d[.ddd]e±XX, the shortest digits
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	if exp < -4 || exp >= 16 {
		b = append(b, mant...)
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	n := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	if !slices.Contains(b[n:], '.') {
		b = append(b, ".0"...)
	}
	return b
}

// appendPyField appends a text field as Python's csv module (QUOTE_MINIMAL) writes it: quoted,
// quotes doubled, only when it holds a comma, a quote or a line break. Control and
// bidirectional characters are escaped first (metrics.Escape), as in every output.
func appendPyField(b []byte, v string) []byte {
	v = metrics.Escape(v)
	if !strings.ContainsAny(v, ",\"\r\n") {
		return append(b, v...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(v, `"`, `""`)...)
	return append(b, '"')
}

// appendPyHeader appends a header row.
func appendPyHeader(b []byte, cols []string) []byte {
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPyField(b, c)
	}
	return append(b, crlf...)
}
