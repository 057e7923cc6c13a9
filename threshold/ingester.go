package threshold

import (
	"context"

	"github.com/loadplan/loadplan/metrics"
)

// Ingester is the output adapter that feeds an Evaluator the samples of a running plan: it
// implements outputs.Output (by shape; this package does not import outputs), so the Manager's
// fan-out drives the engine like any output, while the engine itself stays usable without one
// (merge). It holds no state of its own.
type Ingester struct {
	e *Evaluator
}

// Ingester returns e's output adapter. Give it to one Manager; the Manager's Start starts the
// abort loop and its Stop closes e.
func (e *Evaluator) Ingester() *Ingester { return &Ingester{e: e} }

// Name implements outputs.Output.
func (in *Ingester) Name() string { return "thresholds" }

// Start starts the evaluator's abort loop when a threshold asks for abort_on_fail. The loop lives
// until Stop, not as long as ctx (which only bounds starting).
func (in *Ingester) Start(context.Context) error {
	in.e.startAbortLoop()
	return nil
}

// Emit folds a batch into the evaluator (Evaluator.Add). It takes the evaluator's lock, held
// only for the batch's folding, which the abort loop shares once a second.
func (in *Ingester) Emit(batch []metrics.Sample) { in.e.Add(batch) }

// Stop closes the evaluator: it ends the abort loop and judges the windows left open. It does
// no I/O and returns nil.
func (in *Ingester) Stop(context.Context) error {
	in.e.Close()
	return nil
}
