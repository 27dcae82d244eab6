package broker

import (
	"context"
	"log/slog"
)

// mochiHandler passes mochi's log records on, demoting what would be noise
// next to the broker's own logs: mochi's lifecycle chatter (Info), and its
// per-packet errors for refusals the hook already logged with the reason,
// username and topic (mochi dumps the whole packet, payload included).
type mochiHandler struct{ slog.Handler }

var mochiDuplicates = map[string]bool{
	"error processing packet": true,
	"publish packet error":    true,
	"publish packet rejected": true,
}

func (h mochiHandler) Enabled(ctx context.Context, l slog.Level) bool {
	// Decided in Handle, where the message is known; ask for the lowest
	// level the records could be demoted to.
	return h.Handler.Enabled(ctx, slog.LevelDebug) || h.Handler.Enabled(ctx, l)
}

func (h mochiHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo || mochiDuplicates[r.Message] {
		r.Level = slog.LevelDebug
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h mochiHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return mochiHandler{h.Handler.WithAttrs(as)}
}

func (h mochiHandler) WithGroup(name string) slog.Handler {
	return mochiHandler{h.Handler.WithGroup(name)}
}
