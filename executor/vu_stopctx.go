package executor

import "context"

// StopContext is the context whose Done channel Stopping returns: done when the VU must start
// no new iteration. A step kind that must act at the stop registers a callback on it
// (context.AfterFunc, which costs no goroutine on the executor's contexts) instead of a goroutine
// waiting on the channel: the WebSocket receive step does, one registration per waiting step
// rather than one goroutine per VU (executor/wsstep).
func (v *vu) StopContext() context.Context { return v.stop }
