package gateway

import (
	"fmt"
	"log/slog"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// AlertsMQTTConfig connects a standalone gateway to the MQTT broker its
// sites' screens and devices read alerts from (tracegate/{site}/alerts).
// The account needs publish rights on tracegate/+/alerts (a service
// account; see docs/operations.md).
type AlertsMQTTConfig struct {
	Broker   string        `yaml:"broker"` // tcp://host:1883 or ssl://…; empty: no MQTT alerts
	ClientID string        `yaml:"clientID"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password"`
	QoS      byte          `yaml:"qos"`     // default 1
	Timeout  time.Duration `yaml:"timeout"` // per publish, default 5s
}

// MQTTAlerts publishes alerts with a paho client that reconnects by
// itself. A publish that fails is counted by the gateway
// (tracegate_gateway_alert_errors_total{where="mqtt"}); the alert itself
// is kept in the gateway store and shown in the portal regardless.
type MQTTAlerts struct {
	cfg AlertsMQTTConfig
	cl  mqtt.Client
}

// NewMQTTAlerts connects to the broker in the background.
func NewMQTTAlerts(cfg AlertsMQTTConfig, log *slog.Logger) (*MQTTAlerts, error) {
	if cfg.Broker == "" {
		return nil, fmt.Errorf("alerts MQTT broker is empty")
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "tracegate-gateway-alerts"
	}
	if cfg.QoS == 0 {
		cfg.QoS = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	opts := mqtt.NewClientOptions().AddBroker(cfg.Broker).SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).SetPassword(cfg.Password).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(2 * time.Second).
		SetCleanSession(false).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { log.Warn("alerts MQTT connection lost", "err", err) }).
		SetOnConnectHandler(func(mqtt.Client) { log.Info("alerts MQTT connected", "broker", cfg.Broker) })
	m := &MQTTAlerts{cfg: cfg, cl: mqtt.NewClient(opts)}
	m.cl.Connect() // retries in the background
	return m, nil
}

// PublishAlert publishes one alert and waits for the broker's
// acknowledgement (QoS 1) up to the timeout.
func (m *MQTTAlerts) PublishAlert(topic string, payload []byte) error {
	tok := m.cl.Publish(topic, m.cfg.QoS, false, payload)
	if !tok.WaitTimeout(m.cfg.Timeout) {
		return fmt.Errorf("publish %s: no acknowledgement within %s", topic, m.cfg.Timeout)
	}
	return tok.Error()
}

// Close disconnects.
func (m *MQTTAlerts) Close() { m.cl.Disconnect(250) }
