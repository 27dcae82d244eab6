package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Reason codes the broker answers with.
var (
	// MQTT 5 CONNACK reason codes; MQTT 3.1.1 clients get v3BadCredentials
	// and v3IdentifierRejected instead.
	codeBadCredentials    = packets.ErrBadUsernameOrPassword    // 0x86
	codeIdentifierInvalid = packets.ErrClientIdentifierNotValid // 0x85

	// MQTT 5 PUBACK or DISCONNECT reason codes for refused publishes. Their
	// reason strings differ from mochi's ErrRejectPacket (also 0x83), which
	// mochi compares by value and would treat as "drop silently".
	codeIngestFailed = packets.Code{Code: 0x80, Reason: "reading not stored; publish it again"}
	codeTooLarge     = packets.Code{Code: 0x83, Reason: "payload larger than the broker accepts"}
	codeNotStored    = packets.Code{Code: 0x80, Reason: "connection closing; publish it again"}
)

// MQTT 3.1.1 CONNACK return codes (section 3.2.2.3).
const (
	v3IdentifierRejected = 0x02
	v3BadCredentials     = 0x04
)

// hook is the broker's one mochi hook: authentication, ACL, the size
// limit and the ingest call. One is made per Run, bound to that run's server.
type hook struct {
	mqtt.HookBase
	b         *Broker
	srv       *mqtt.Server
	ingestCtx context.Context
}

func (h *hook) ID() string { return "tracegate-broker" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mqtt.OnConnect,
		mqtt.OnConnectAuthenticate,
		mqtt.OnSessionEstablished,
		mqtt.OnDisconnect,
		mqtt.OnACLCheck,
		mqtt.OnPublish,
		mqtt.OnPacketEncode,
	}, []byte{b})
}

// OnConnect authenticates the client and checks its client ID. mochi sends
// no CONNACK when OnConnect fails, so a refusal writes its own CONNACK with
// the most precise reason the client's protocol version has.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	user := string(pk.Connect.Username)
	log := h.b.log.With("client", cl.ID, "username", user, "remote", cl.Net.Remote)
	table := h.b.accounts.Load()
	acct := table.lookup(user)
	if acct == nil {
		return h.refuseConnect(cl, log, ConnUnknownUser, "unknown username")
	}
	ok, err := h.b.auth.verify(acct, pk.Connect.Password)
	if err != nil {
		log.Error("cannot check password", "err", err)
		return h.refuseConnect(cl, log, ConnAuthError, "password hash unusable")
	}
	if !ok {
		return h.refuseConnect(cl, log, ConnBadPassword, "wrong password")
	}
	if acct.Role == RoleDevice && cl.ID != acct.Username {
		return h.refuseConnect(cl, log, ConnClientIDMismatch, "a device's client ID must equal its username")
	}
	if other := table.lookup(cl.ID); acct.Role == RoleService && other != nil && other.Role == RoleDevice {
		// Taking a device's client ID would take over its session.
		return h.refuseConnect(cl, log, ConnClientIDReserved, "client ID belongs to a device")
	}
	h.b.metrics.connections.WithLabelValues(ConnAccepted).Inc()
	log.Debug("client authenticated", "role", acct.Role, "protocol", cl.Properties.ProtocolVersion, "clean", pk.Connect.Clean)
	return nil
}

func (h *hook) refuseConnect(cl *mqtt.Client, log *slog.Logger, result, why string) error {
	h.b.metrics.connections.WithLabelValues(result).Inc()
	log.Warn("connection refused", "result", result, "reason", why)
	code, v3 := codeBadCredentials, byte(v3BadCredentials)
	if result == ConnClientIDMismatch || result == ConnClientIDReserved {
		code, v3 = codeIdentifierInvalid, v3IdentifierRejected
	}
	if cl.Properties.ProtocolVersion == 5 {
		_ = h.srv.SendConnack(cl, code, false, nil)
	} else {
		_ = cl.WritePacket(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ReasonCode: v3})
	}
	return fmt.Errorf("connection refused: %s: %w", why, code)
}

// OnConnectAuthenticate accepts every client that reaches it: mochi calls it
// only after OnConnect returned nil, and OnConnect did the checking.
func (h *hook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (h *hook) OnSessionEstablished(*mqtt.Client, packets.Packet) { h.b.metrics.clients.Inc() }

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, _ bool) {
	h.b.metrics.clients.Dec()
	if errors.Is(err, packets.ErrPacketTooLarge) {
		// mochi refuses to read a packet above the wire limit and drops the
		// connection; it is almost always an oversized publish.
		h.b.metrics.publishes.WithLabelValues(PubTooLarge).Inc()
		h.b.log.Warn("packet above the size limit; connection closed", "client", cl.ID,
			"username", string(cl.Properties.Username), "limit", h.b.cfg.maxPacketSize())
		return
	}
	h.b.log.Debug("client disconnected", "client", cl.ID, "err", err)
}

// OnPacketEncode tells MQTT 5 clients the largest packet the broker reads,
// so a compliant client refuses an oversized publish itself.
func (h *hook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Connack && cl.Properties.ProtocolVersion == 5 && pk.ReasonCode < 0x80 {
		pk.Properties.MaximumPacketSize = h.b.cfg.maxPacketSize()
	}
	return pk
}

// OnACLCheck allows a device to publish only on its own topic and to read
// only its site's alerts; a service reads anything under tracegate/ and
// publishes alerts. mochi calls it with write=true for each publish (a
// denied QoS 1 publish then disconnects an MQTT 3 client, or gets a PUBACK
// 0x87 in MQTT 5), and with write=false for each subscription filter and
// again for each message delivered.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if cl.Net.Inline {
		return true
	}
	user := string(cl.Properties.Username)
	acct := h.b.accounts.Load().lookup(user)
	if write {
		if acct != nil && acct.canPublish(topic) {
			return true
		}
		h.b.metrics.publishes.WithLabelValues(PubACLDenied).Inc()
		h.b.log.Warn("publish denied by ACL", "username", user, "client", cl.ID, "topic", topic)
		return false
	}
	if acct != nil && acct.canRead(topic) {
		return true
	}
	h.b.log.Warn("read denied by ACL", "username", user, "client", cl.ID, "filter", topic)
	return false
}

// OnPublish runs for every publish that passed the ACL, before mochi answers
// it. mochi v2.7.9 writes the PUBACK (QoS 1) or PUBREC (QoS 2) only after
// this returns nil, so a device's reading is ingested (made durable) first.
// How mochi treats an error from here decides what the device sees:
//
//   - packets.ErrRejectPacket: no acknowledgement at all, nothing delivered,
//     the connection stays open;
//   - a packets.Code, from an MQTT 5 client at QoS > 0: a PUBACK carrying
//     that reason code (PUBACK even at QoS 2, which is a protocol error);
//   - any other error (and a Code from an MQTT 3 client): mochi logs it and
//     carries on as if nil: the message is delivered and acknowledged.
//
// So refuse never returns a plain error. See refuse for the mapping.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil // Broker.Publish: alerts from the embedding process
	}
	user := string(cl.Properties.Username)
	log := h.b.log.With("username", user, "client", cl.ID, "topic", pk.TopicName, "qos", pk.FixedHeader.Qos, "packet_id", pk.PacketID)
	if cl.Closed() {
		// Already being disconnected (an earlier publish failed): an
		// acknowledgement could not be sent, so do not ingest either.
		return pk, h.refuse(cl, pk, codeNotStored, true)
	}
	acct := h.b.accounts.Load().lookup(user)
	if acct == nil { // account removed since the ACL check
		h.b.metrics.publishes.WithLabelValues(PubACLDenied).Inc()
		log.Warn("publish from a removed account refused")
		return pk, h.refuse(cl, pk, packets.ErrNotAuthorized, false)
	}
	if len(pk.Payload) > h.b.cfg.MaxPayload {
		h.b.metrics.publishes.WithLabelValues(PubTooLarge).Inc()
		log.Warn("publish refused: payload too large", "bytes", len(pk.Payload), "limit", h.b.cfg.MaxPayload)
		return pk, h.refuse(cl, pk, codeTooLarge, false)
	}
	if acct.Role != RoleDevice || h.b.ingest == nil {
		h.b.metrics.publishes.WithLabelValues(PubAccepted).Inc()
		return pk, nil
	}
	m := Message{
		Topic:     pk.TopicName,
		Payload:   pk.Payload,
		ClientID:  cl.ID,
		Username:  user,
		QoS:       pk.FixedHeader.Qos,
		Received:  time.Now().UTC(),
		PacketID:  pk.PacketID,
		Duplicate: pk.FixedHeader.Dup,
	}
	ctx, cancel := context.WithTimeout(h.ingestCtx, h.b.cfg.IngestTimeout)
	err := h.callIngest(ctx, m)
	cancel()
	h.b.metrics.ingest.Observe(time.Since(m.Received).Seconds())
	if err != nil {
		h.b.metrics.publishes.WithLabelValues(PubIngestFailed).Inc()
		log.Error("ingest failed; not acknowledged, the device will publish again", "err", err, "dup", m.Duplicate)
		return pk, h.refuse(cl, pk, codeIngestFailed, true)
	}
	h.b.metrics.publishes.WithLabelValues(PubAccepted).Inc()
	return pk, nil
}

// callIngest runs the ingest callback, turning a panic into an error so a
// faulty callback cannot take the broker down.
func (h *hook) callIngest(ctx context.Context, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ingest panicked: %v", r)
			h.b.log.Error("ingest panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	return h.b.ingest(ctx, m)
}

// refuse makes sure a refused publish is neither delivered nor
// acknowledged as stored, and that the client finds out. How depends on
// whether sending the same message again can succeed.
//
// A transient refusal (the ingest failed, or the connection is closing)
// must make the device send the message again:
//
//   - QoS 0: dropped (ErrRejectPacket); there is no acknowledgement to withhold;
//   - QoS 1 and 2: the connection is closed without an acknowledgement.
//     MQTT 3.1.1 has no negative PUBACK, and clients retransmit only after
//     reconnecting, from their session (clean session off), with DUP set.
//     For MQTT 5 the same is done (DISCONNECT 0x80 with a reason string):
//     a PUBACK with a failure reason code ends the exchange, and common
//     clients then drop the message (mosquitto_pub only prints a warning
//     and exits 0, where a lost connection makes it exit with an error;
//     see TestMosquittoClients). Config.NegativePubackV5
//     switches MQTT 5 QoS 1 to PUBACK 0x80 for devices known to
//     re-publish on a failure reason code.
//
// A permanent refusal (payload too large, account removed) would fail
// again on every re-send:
//
//   - QoS 0: dropped;
//   - MQTT 5, QoS 1: PUBACK with the failure reason code, so the client
//     stops re-sending it;
//   - MQTT 5 at QoS 2, and MQTT 3.1.1: the connection is closed (mochi's
//     MQTT 5 path answers QoS 2 with a PUBACK the client cannot accept;
//     3.1.1 has nothing else). The 3.1.1 device keeps the message and the
//     refusal repeats, counted and logged, until it is reconfigured: the
//     same thing mochi does for a publish the ACL denies.
func (h *hook) refuse(cl *mqtt.Client, pk packets.Packet, code packets.Code, transient bool) error {
	v5 := cl.Properties.ProtocolVersion == 5
	switch {
	case pk.FixedHeader.Qos == 0:
		return packets.ErrRejectPacket
	case v5 && pk.FixedHeader.Qos == 1 && (!transient || h.b.cfg.NegativePubackV5):
		return code // mochi answers PUBACK with this reason code
	case v5:
		dc := code
		if code == codeTooLarge {
			dc = packets.ErrPacketTooLarge
		}
		_ = h.srv.DisconnectClient(cl, dc)
	default:
		// MQTT 3 has no server DISCONNECT: close the network connection.
		cl.Stop(code)
	}
	return packets.ErrRejectPacket
}
