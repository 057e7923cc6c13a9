package metrics

import "time"

// Span is one stage of the plan-level load as run, as offsets from the run's start. The executor
// reports the stages it runs as Spans, the threshold engine places samples of a stage-scoped
// threshold by them, and a segment summary carries them to `loadplan merge`: one type, defined
// in this leaf so that all three use it without a conversion (its JSON form, {"Start":ns,
// "End":ns}, is part of the segment summary format).
type Span struct {
	Start, End time.Duration
}

// ThresholdState is the mergeable part of one threshold's state: what a segment summary carries
// and `loadplan merge` combines across segments to judge the thresholds over the whole fleet.
type ThresholdState struct {
	Name    string            // the threshold's name as written in the plan
	Total   *Series           // run or stage scope
	Buckets map[int64]*Series // window scope, by Unix second (complete when the engine keeps buckets)
}
