// Package broker is the embedded MQTT broker of `tracegate up`: mochi-mqtt
// v2 with tracegate's accounts, topic ACL, payload limit, Prometheus
// metrics and the hook that makes a device's reading durable before its
// PUBACK.
//
// # Durable before PUBACK
//
// mochi (v2.7.9) answers a QoS 1 publish with PUBACK (QoS 2: PUBREC) only
// after every OnPublish hook has returned. The broker calls the ingest
// callback (WithIngest) synchronously inside its OnPublish hook, so the
// acknowledgement follows a successful ingest. Calls for different clients
// run concurrently (mochi reads each client in its own goroutine), which
// lets the edge group-commit them; one client's publishes are handled one
// after another.
//
// What a device sees when ingest fails, and why: an error returned from
// OnPublish is not enough. mochi treats ErrRejectPacket as "drop, no ack,
// keep the connection", a packets.Code from an MQTT 5 client as "PUBACK
// with that reason code", and any other error as success (it logs it, then
// delivers and acknowledges the message). So for a failed ingest the broker
//
//   - MQTT 3.1.1 (QoS 1 and 2): closes the connection without a PUBACK. The
//     protocol has no negative acknowledgement and clients retransmit only
//     after reconnecting, so this is what makes the device (clean session
//     off) send the message again, with DUP set;
//   - MQTT 5, QoS 1: answers PUBACK with reason code 0x80 (unspecified
//     error): the device is told the message was not accepted and must
//     publish it again; it is never a success acknowledgement;
//   - MQTT 5, QoS 2: disconnects (mochi would answer a PUBACK where the
//     client expects a PUBREC);
//   - QoS 0: drops the message (counted and logged).
//
// The same refusal applies to a payload above Config.MaxPayload and to a
// publish outside the account's ACL (mochi itself disconnects an MQTT 3
// client, or answers PUBACK 0x87 in MQTT 5). A refused message is never
// delivered to subscribers.
//
// # Accounts and ACL
//
// A device account (Role "device") connects with its device ID as both
// username and client ID, publishes only on tracegate/{site}/{kind}/{id}
// and subscribes only to tracegate/{site}/alerts. A service account (edge
// agent, gateway) subscribes to anything under tracegate/ (shared
// subscriptions included) and publishes on tracegate/{site}/alerts; it may
// not use a device's client ID, which would take over the device's session.
// Refused connections get CONNACK "bad user name or password" (3.1.1 code
// 4, MQTT 5 0x86) or "identifier rejected" (2, 0x85), and are counted in
// tracegate_broker_connections_total{result} and logged with the reason.
//
// # Passwords
//
// Accounts hold argon2id hashes in PHC form, made by HashPassword with
// m=19456 KiB (19 MiB), t=2, p=1, a 16-byte random salt and a 32-byte key.
// These are the OWASP Password Storage Cheat Sheet's baseline for argon2id
// (RFC 9106 recommends more memory where it can be afforded). The broker
// runs on edge boxes with little RAM, and after a broker restart every
// device reconnects at once: memory per verification times concurrent
// verifications is the limit that matters, so memory stays at 19 MiB,
// verifications are capped at Config.AuthConcurrency (GOMAXPROCS), and a
// successful login is remembered as an HMAC under a per-process random key
// so reconnects do not pay argon2id again. Device passwords are random
// machine secrets, so the hash mostly protects the account file at rest,
// where 19 MiB and two passes still make each guess costly. CheckPassword
// reads the parameters from the hash, so stronger hashes (up to 1 GiB,
// t ≤ 64) verify without a code change.
//
// # Operations notes
//
// IngestTimeout must stay below the devices' keep-alive: while one of a
// client's publishes is being ingested the broker reads nothing else from
// that client. mochi keeps sessions in memory only; devices keep their own
// unacknowledged messages, so a broker restart loses nothing a device was
// not acknowledged for.
package broker
