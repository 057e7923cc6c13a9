package plan

import (
	"github.com/loadplan/loadplan/metrics"
)

// producer is a tag set some part of the plan emits samples with, and the metrics it emits. The
// threshold checks use it to reject series that cannot exist.
type producer struct {
	tags    *metrics.Tags // nil for run-level samples (vus)
	metrics map[metrics.Metric]bool
}

func (p producer) produces(m metrics.Metric) bool { return p.metrics[m] }

// matches reports whether a series of p can carry every tag of sel. Dynamic tags (status, check,
// error) are set per sample and match any producer that has static tags.
func (p producer) matches(sel map[string]string) bool {
	if p.tags == nil {
		return len(sel) == 0
	}
	for k, v := range sel {
		switch k {
		case "status", "check", "error":
			continue
		}
		got, ok := p.tags.Get(k)
		if !ok || got != v {
			return false
		}
	}
	return true
}

func set(ms ...metrics.Metric) map[metrics.Metric]bool {
	out := make(map[metrics.Metric]bool, len(ms))
	for _, m := range ms {
		out[m] = true
	}
	return out
}

// producers lists what every scenario and step of the plan emits.
func (l *loader) producers() []producer {
	out := []producer{{tags: nil, metrics: set(metrics.VUs, metrics.VUsMax)}}
	for _, s := range l.plan.Scenarios {
		ms := set(metrics.Iterations, metrics.IterationDuration, metrics.IterationsInterrupted, metrics.Errors, metrics.ScheduleLag)
		ld := s.Load
		if ld == nil {
			ld = l.plan.Load
		}
		if ld != nil && ld.Model == ArrivalRate {
			ms[metrics.DroppedIterations] = true
		}
		out = append(out, producer{tags: s.MetricTags, metrics: ms})
		for _, t := range s.Tasks { // a task's iterations carry its task tag
			out = append(out, producer{tags: t.MetricTags, metrics: set(metrics.Iterations, metrics.IterationDuration,
				metrics.IterationsInterrupted, metrics.Errors)})
		}
		s.Walk(func(st *Step) {
			switch {
			case st.HTTP != nil:
				ms := map[metrics.Metric]bool{metrics.DataSent: true, metrics.DataReceived: true}
				for _, m := range metrics.All() {
					if m.IsHTTP() {
						ms[m] = true
					}
				}
				if len(st.HTTP.Checks) > 0 {
					ms[metrics.Checks] = true
				}
				out = append(out, producer{tags: st.HTTP.Tags, metrics: ms})
			case st.WebSocket != nil:
				out = append(out, wsProducers(st.WebSocket)...)
			}
		})
	}
	return out
}

// wsProducers: every websocket metric may be tagged with the connection or a step of it; the
// metrics of particular steps (expect, ping) and of reconnects need those to exist in the block.
func wsProducers(ws *WebSocketStep) []producer {
	ms := set(metrics.DataSent, metrics.DataReceived, metrics.WSConnecting, metrics.WSSessions,
		metrics.WSSessionDuration, metrics.WSMsgsSent, metrics.WSMsgsReceived, metrics.WSMsgsUnmatched, metrics.WSErrors)
	if ws.Reconnect != nil {
		ms[metrics.WSReconnects] = true
		ms[metrics.WSReconnectDuration] = true
	}
	for _, st := range ws.Steps {
		switch st.Kind {
		case WSExpect:
			ms[metrics.WSExpectDuration] = true
			ms[metrics.WSExpectFailed] = true
		case WSPing:
			ms[metrics.WSPing] = true
		}
	}
	out := []producer{{tags: ws.Tags, metrics: ms}}
	for _, st := range ws.Steps {
		out = append(out, producer{tags: st.Tags, metrics: ms})
	}
	return out
}
