package broker

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMosquittoClients checks the broker against another MQTT
// implementation, Eclipse Mosquitto's mosquitto_pub (Debian package
// mosquitto-clients), in MQTT 3.1.1 and 5: a QoS 1 publish is stored; when
// the ingest fails the client loses its connection and exits with an
// error, so it is run again; a wrong password is refused. It also shows
// why a negative PUBACK is not the default for MQTT 5: mosquitto_pub takes
// it as final and exits 0 with the message not stored.
func TestMosquittoClients(t *testing.T) {
	bin, err := exec.LookPath("mosquitto_pub")
	if err != nil {
		t.Fatalf("mosquitto_pub not found (apt-get install mosquitto-clients): %v", err)
	}
	for _, negative := range []bool{false, true} {
		rec := &recorder{}
		tb := startBroker(t, Config{Accounts: baseAccounts(), NegativePubackV5: negative}, WithIngest(rec.ingest))
		host, port, _ := net.SplitHostPort(tb.Addr())
		pub := func(version, pass, msg string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "-V", version,
				"-i", "dock-in-1", "-u", "dock-in-1", "-P", pass, "-q", "1", "-c", "-x", "600",
				"-t", rfidTopic, "-m", msg).CombinedOutput()
			return string(out), err
		}
		failNext := func() {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			failed := false
			rec.fail = func(int, Message) error {
				if !failed {
					failed = true
					return errors.New("disk full")
				}
				return nil
			}
		}
		stored := func(payload string) int {
			n := 0
			for _, m := range rec.stored() {
				if string(m.Payload) == payload {
					n++
				}
			}
			return n
		}

		if negative {
			failNext()
			out, err := pub("mqttv5", testPassword, `{"negative":true}`)
			if err != nil || stored(`{"negative":true}`) != 0 || !strings.Contains(out, "failed") {
				t.Errorf("negative PUBACK: exit %v, stored %d, output %q; want exit 0 with the message lost", err, stored(`{"negative":true}`), out)
			}
			continue
		}
		for _, v := range []string{"mqttv311", "mqttv5"} {
			ok := `{"v":"` + v + `"}`
			if out, err := pub(v, testPassword, ok); err != nil || stored(ok) != 1 {
				t.Fatalf("%s publish: %v, stored %d: %s", v, err, stored(ok), out)
			}
			// mosquitto_pub does not reconnect: losing the connection it
			// exits non-zero, so whoever runs it knows to run it again.
			failNext()
			retried := `{"retried":"` + v + `"}`
			if out, err := pub(v, testPassword, retried); err == nil || stored(retried) != 0 {
				t.Errorf("%s publish with a failed ingest: exit %v, stored %d: %s; want an error exit", v, err, stored(retried), out)
			}
			if out, err := pub(v, testPassword, retried); err != nil || stored(retried) != 1 {
				t.Errorf("%s publish again: %v, stored %d: %s", v, err, stored(retried), out)
			}
			out, err := pub(v, "wrong", "{}")
			if err == nil {
				t.Errorf("%s: wrong password accepted: %s", v, out)
			}
			if l := strings.ToLower(out); !strings.Contains(l, "password") && !strings.Contains(l, "not authori") {
				t.Errorf("%s: refusal reason not reported: %q", v, out)
			}
		}
	}
}
