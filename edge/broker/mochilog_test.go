package broker

import (
	"log/slog"
	"strings"
	"testing"
)

func TestMochiHandlerDemotes(t *testing.T) {
	var buf syncBuffer
	log := slog.New(mochiHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})})
	log.Info("added hook")
	log.Warn("error processing packet", "pk", "dump")
	log.Error("publish packet error")
	log.Warn("failed to resend")
	log.Error("something broke")
	out := buf.String()
	for _, gone := range []string{"added hook", "error processing packet", "publish packet error"} {
		if strings.Contains(out, gone) {
			t.Errorf("%q not demoted below Info:\n%s", gone, out)
		}
	}
	for _, kept := range []string{"level=WARN msg=\"failed to resend\"", "level=ERROR msg=\"something broke\""} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q missing:\n%s", kept, out)
		}
	}
}
