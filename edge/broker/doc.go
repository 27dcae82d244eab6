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
// keep the connection" (the client would wait forever: clients retransmit
// only after reconnecting), a packets.Code from an MQTT 5 client at QoS > 0
// as "PUBACK with that reason code" (even at QoS 2, where the client
// expects PUBREC), and any other error as success: it logs it, then
// delivers and acknowledges the message. So for a failed ingest the broker
// closes the connection without acknowledging (QoS 1 and 2, MQTT 3.1.1 and
// 5; MQTT 5 clients get DISCONNECT 0x80 with a reason string first). The
// device, with clean session off, re-sends the message after reconnecting,
// DUP set. It does not answer MQTT 5 with a PUBACK carrying a failure
// reason code by default: that ends the exchange, and common clients then
// drop the message (mosquitto_pub prints a warning and exits 0);
// Config.NegativePubackV5 turns it on for devices that re-publish on one.
// QoS 0 messages whose ingest failed are dropped, counted and logged.
//
// Permanent refusals, which a re-send cannot fix, are answered so the
// device stops re-sending where the protocol allows it: a payload above
// Config.MaxPayload gets PUBACK 0x83 in MQTT 5 at QoS 1; MQTT 3.1.1 has no
// negative acknowledgement, so the connection is closed, as mochi itself
// does for a publish the ACL denies (MQTT 5: PUBACK 0x87). A refused
// message is never ingested or delivered to subscribers.
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
