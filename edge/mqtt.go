package edge

import (
	"context"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/tracegate/tracegate/edge/journal"
)

// runSubscriber subscribes to the configured broker with a persistent
// session (clean session off) at QoS 1 and acknowledges each message only
// after it is durable in the journal. The broker keeps anything not yet
// acknowledged and re-delivers it after a reconnect or a restart of the
// edge, so a kill -9 loses nothing the broker kept (see
// docs/operations.md for the Mosquitto settings this needs).
func (a *Agent) runSubscriber(ctx context.Context) error {
	c := a.cfg.MQTT
	opts := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID(c.ClientID).
		SetUsername(c.Username).
		SetPassword(c.Password).
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetOrderMatters(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetMessageChannelDepth(uint(c.MaxPending))
	handler := func(_ mqtt.Client, m mqtt.Message) {
		raw := journal.Raw{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Received: a.now().UTC(), PacketID: m.MessageID(), Dup: m.Duplicate()}
		// Blocks only when the commit queue is full: back-pressure reaches
		// the broker, which holds the rest.
		err := a.IngestAsync(ctx, []journal.Raw{raw}, func(err error) {
			if err == nil {
				m.Ack()
			}
		})
		if err != nil {
			a.log.Debug("message not queued (shutting down); the broker re-delivers it", "topic", m.Topic())
		}
	}
	opts.SetOnConnectHandler(func(cl mqtt.Client) {
		filters := map[string]byte{}
		for _, t := range c.Topics {
			filters[t] = 1
		}
		tok := cl.SubscribeMultiple(filters, handler)
		if tok.WaitTimeout(10*time.Second) && tok.Error() != nil {
			a.log.Error("subscribe", "topics", c.Topics, "err", tok.Error())
			return
		}
		a.subscribed.Store(true)
		a.log.Info("subscribed", "broker", c.Broker, "topics", c.Topics)
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		a.subscribed.Store(false)
		a.log.Warn("broker connection lost; reconnecting", "broker", c.Broker, "err", err)
	})
	// Messages the broker re-delivers right after connecting arrive before
	// the subscription is renewed; route them to the same handler.
	opts.SetDefaultPublishHandler(handler)
	cl := mqtt.NewClient(opts)
	tok := cl.Connect()
	go func() {
		tok.Wait()
		if err := tok.Error(); err != nil {
			a.log.Error("connect to broker", "broker", c.Broker, "err", err)
		}
	}()
	<-ctx.Done()
	cl.Disconnect(250)
	return fmt.Errorf("subscriber stopped: %w", ctx.Err())
}

// Connected reports whether the edge is connected to its broker and
// subscribed (always false when it is fed in-process).
func (a *Agent) Connected() bool { return a.subscribed.Load() }
