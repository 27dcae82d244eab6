// Package sim simulates tracegate's field devices: RFID portals at dock
// doors, cold-chain temperature/humidity loggers and handheld scanners,
// each an MQTT 3.1.1 client of its own (QoS 1, clean session off,
// automatic reconnection) publishing realistic payloads on the default
// topic layout, tracegate/{site}/{kind}/{device}.
//
// A Fleet is built from a Config (YAML-taggable; ParseConfig reads one) and
// runs until its context ends or every device has published its Messages.
// Like a real logger, each device buffers in an in-memory outbox while the
// broker is unreachable and drains it in order once reconnected; a message
// leaves the outbox only when the broker has acknowledged it (PUBACK).
// Stats reports what was generated, published, acknowledged, buffered and
// dropped per device, and OnAck reports each acknowledged payload, so a
// crash test can check that everything acknowledged survived.
//
// Payloads (Format "tracegate", the default of DESIGN.md):
//
//   - rfid: {"epc": "<SGTIN-96 or SSCC-96 hex>", "ts": "<RFC 3339, ms, UTC>",
//     "antenna": 1, "rssi": -52.5}, one message per read, or arrays of
//     reads with RFIDConfig.Batch. Each cycle a pallet of a configured lot
//     passes the portal: its SSCC and its items' SGTINs, each read several
//     times within a second on one or two antennas;
//   - sensor: {"ts", "temperature", "humidity", "battery"}, the air
//     temperature following a first-order thermal model around the
//     setpoint with noise and random door openings, the battery draining;
//   - scanner: an EPCIS 2.0 ObjectEvent (OBSERVE, receiving or picking) of
//     a few items.
//
// Randomness: every device draws from its own PCG source seeded with
// Config.Seed and a hash of its ID, so the same Config publishes the same
// payload sequence per device regardless of scheduling, and adding a device
// changes no other device's sequence. Timestamps come from the Clock
// (WithClock); the wall clock makes them the only difference between runs.
//
// RFID readers may also publish in the Impinj IoT device interface format
// (FormatImpinj) or as Zebra FX IoT Connector tag reports (FormatZebraFX);
// a logger may report Fahrenheit (SensorConfig.Unit) and simulate faults
// (SensorFaults: compressor failure, drift, sticking, clock skew,
// duplicates, out-of-order and offline bursts). docs/simulator.md has the
// shapes.
//
// Scenarios: BuildScenario(name, seed, start) writes out a named story in
// full (master data, every message with its virtual publish time, ledger
// actions such as a recall, and the Expected outcome computed from the
// generated messages); the same (name, seed, start) gives byte-identical
// payloads. Play publishes a scenario through a broker, one client per
// device. Scenarios lists them; docs/scenarios.md tells their stories.
//
// EPC encoding comes from edge/epc (GS1 Tag Data Standard); scanner events
// are built with edge/epcis where it has a builder.
package sim
