package prometheus

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadplan/loadplan/metrics"
)

// labelOrder is the order of the variable labels of a series; a series has only those whose
// value is non-empty (vus has none, iterations no method, name or status). The last is the
// family's own label: check for checks, error for errors and ws_errors.
var labelOrder = [...]string{"scenario", "task", "step", "target", "method", "name", "status"}

// seriesLabels returns the names and values of the labels of the series of k, leaving out the
// empty ones; extra is the name of the family's Sample.Label label, "" for none.
//
// Labels are a series' identity in Prometheus, not its Key: two keys whose labels are equal (two
// Tags pointers with the same fields, or tags that differ only in the group, which no label
// shows) are one series, so the collectors index series by identity (see identity) and never
// expose one label set twice — a registry refuses to gather that.
func seriesLabels(k metrics.Key, extra string) (names, values []string) {
	var v [len(labelOrder) + 1]string
	if t := k.Tags; t != nil {
		v[0], v[1], v[2], v[3], v[4], v[5] = t.Scenario, t.Task, t.Step, t.Target, t.Method, t.URL
	}
	if k.Status != 0 {
		v[6] = strconv.Itoa(k.Status)
	}
	all := labelOrder[:]
	if extra != "" {
		v[len(labelOrder)] = k.Label
		all = append(all[:len(all):len(all)], extra)
	}
	for i, name := range all {
		if v[i] == "" {
			continue
		}
		names = append(names, name)
		values = append(values, strings.ToValidUTF8(v[i], string(utf8.RuneError)))
	}
	return names, values
}

// identity renders a label set as a map key: names and values joined by bytes that a valid UTF-8
// value cannot hold.
func identity(names, values []string) string {
	var b strings.Builder
	for i, n := range names {
		b.WriteString(n)
		b.WriteByte(0xfe)
		b.WriteString(values[i])
		b.WriteByte(0xff)
	}
	return b.String()
}

// descs keeps one Desc per label-name set of a family: a family's series differ in which labels
// they have, so each set needs its own Desc (the Desc holds the label names). The mutex guards
// the map; Descs are immutable.
type descs struct {
	name, help  string
	constLabels prometheus.Labels

	mu     sync.Mutex
	byName map[string]*prometheus.Desc
}

func newDescs(name, help string, constLabels prometheus.Labels) *descs {
	return &descs{name: name, help: help, constLabels: constLabels, byName: map[string]*prometheus.Desc{}}
}

// desc returns the Desc of the series with these label names.
func (d *descs) desc(names []string) *prometheus.Desc {
	key := strings.Join(names, ",")
	d.mu.Lock()
	defer d.mu.Unlock()
	if x, ok := d.byName[key]; ok {
		return x
	}
	x := prometheus.NewDesc(d.name, d.help, names, d.constLabels)
	d.byName[key] = x
	return x
}
