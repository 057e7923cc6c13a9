package ui

import (
	"github.com/loadplan/loadplan/run"
)

// Status is the run's status as the page shows it: the progress bar and the header.
type Status struct {
	Phase       string  `json:"phase"`
	Elapsed     float64 `json:"elapsed"` // seconds
	Total       float64 `json:"total"`   // seconds planned; 0 when open-ended
	Stage       int     `json:"stage"`
	StageCount  int     `json:"stageCount"`
	VUs         int     `json:"vus"`
	MaxVUs      int     `json:"maxVUs"`
	Iterations  uint64  `json:"iterations"`
	Dropped     uint64  `json:"dropped"`
	Interrupted bool    `json:"interrupted"`
	AbortReason string  `json:"abortReason,omitempty"`
}

func statusOf(s run.Status) Status {
	return Status{Phase: s.Phase.String(), Elapsed: s.Elapsed.Seconds(), Total: s.Total.Seconds(), Stage: s.Stage,
		StageCount: s.StageCount, VUs: s.VUs, MaxVUs: s.MaxVUs, Iterations: s.Iterations, Dropped: s.Dropped,
		Interrupted: s.Interrupted, AbortReason: s.AbortReason}
}
