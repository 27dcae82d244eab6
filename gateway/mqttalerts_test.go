package gateway

import (
	"context"
	"log/slog"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tracegate/tracegate/edge/broker"
)

// The standalone gateway's MQTT alert publisher against the embedded
// broker (mochi) with a service account: a site's device, subscribed to
// its own site's alerts, receives what the gateway publishes.
func TestMQTTAlertsReachTheSite(t *testing.T) {
	gwHash, _ := broker.HashPassword("gw-secret")
	devHash, _ := broker.HashPassword("dev-secret")
	b, err := broker.New(broker.Config{Addr: "127.0.0.1:0", Accounts: []broker.Account{
		{Username: "gateway", PasswordHash: gwHash, Role: broker.RoleService},
		{Username: "screen-1", PasswordHash: devHash, Role: broker.RoleDevice, Site: "wh1", Kind: broker.KindScanner},
	}}, broker.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-b.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("broker did not start")
	}
	got := make(chan string, 4)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + b.Addr()).SetClientID("screen-1").SetUsername("screen-1").SetPassword("dev-secret"))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	if tok := sub.Subscribe("tracegate/wh1/alerts", 1, func(_ mqtt.Client, m mqtt.Message) { got <- m.Topic() + " " + string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	pub, err := NewMQTTAlerts(AlertsMQTTConfig{Broker: "tcp://" + b.Addr(), Username: "gateway", Password: "gw-secret"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = pub.PublishAlert(AlertTopic("wh1"), []byte(`{"kind":"recall"}`))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	select {
	case m := <-got:
		if m != `tracegate/wh1/alerts {"kind":"recall"}` {
			t.Fatalf("received %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the site's subscriber received no alert")
	}
	if _, err := NewMQTTAlerts(AlertsMQTTConfig{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("an empty broker address is accepted")
	}
}
