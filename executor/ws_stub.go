package executor

import (
	"context"

	"github.com/loadplan/loadplan/plan"
)

// runWebSocket is a temporary stub until WS commits executor/ws.go (WS: delete this file when
// you wire the hook). It ends the iteration with an `errors` sample.
func (v *vu) runWebSocket(ctx context.Context, st *plan.WebSocketStep) error {
	return &iterError{label: "websocket steps are not available in this build"}
}
