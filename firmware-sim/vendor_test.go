package sim

import (
	"encoding/json"
	"testing"
	"time"
)

// TestFleetVendorFormats checks fleet readers in the Impinj and Zebra FX
// formats and a Fahrenheit logger.
func TestFleetVendorFormats(t *testing.T) {
	cfg := DemoConfig("x:1", nil)
	cfg.Devices[0].Format = FormatImpinj  // dock-in
	cfg.Devices[1].Format = FormatZebraFX // dock-out, batched
	f := DefaultSensorConfig()
	f.Unit = "F"
	cfg.Devices[2].Sensor = &f
	clock := fixedClock{epoch}
	zebra := map[string]int{}
	for _, i := range []int{0, 1, 2} {
		d := cfg.withDefaults().Devices[i]
		msgs := generate(t, cfg, d.ID, 3, clock)
		tags := 0
		for _, m := range msgs {
			epcs, err := checkPayload(d, m, zebra)
			if err != nil {
				t.Fatalf("%s (%s): %v\n%s", d.ID, d.Format, err, m)
			}
			tags += len(epcs)
			if d.Kind == KindSensor {
				var r SensorReading
				json.Unmarshal(m, &r)
				if r.Unit != "F" || *r.Temperature < 35 || *r.Temperature > 50 || r.Humidity != nil {
					t.Fatalf("Fahrenheit logger: %s", m)
				}
			}
		}
		if d.Kind == KindRFID && tags == 0 {
			t.Fatalf("%s: no tags read", d.ID)
		}
		if d.Format == FormatZebraFX && (zebra[d.ID] < 3 || msgs[0][0] != '[') {
			t.Fatalf("zebra batch: eventNum %d, first %s", zebra[d.ID], msgs[0])
		}
	}
}

// TestFleetSensorFaults checks a fleet logger's faults: compressor failure,
// drift, sticking, skew, duplicates, swaps and offline bursts.
func TestFleetSensorFaults(t *testing.T) {
	read := func(faults SensorFaults, n int) ([]SensorReading, [][]byte) {
		cfg := DemoConfig("x:1", nil)
		s := DefaultSensorConfig()
		s.DoorOpenChance, s.Noise = 0, 0
		s.Faults = &faults
		cfg.Devices[2].Sensor = &s
		cfg.Devices[2].Interval = time.Minute
		msgs := generate(t, cfg, DemoColdRoom, n, fixedClock{epoch})
		var rs []SensorReading
		for _, m := range msgs {
			var r SensorReading
			if err := decodeStrict(m, &r); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		return rs, msgs
	}
	rs, _ := read(SensorFaults{CompressorFailAfter: 10 * time.Minute}, 60)
	if *rs[9].Temperature > 6 || *rs[59].Temperature < 15 {
		t.Errorf("compressor failure: %v at 9 min, %v at 59 min", *rs[9].Temperature, *rs[59].Temperature)
	}
	rs, _ = read(SensorFaults{DriftPerHour: 2}, 121)
	if d := *rs[120].Temperature - *rs[0].Temperature; d < 3.2 || d > 4.8 {
		t.Errorf("drift of 2 °C/h over 2 h gave %v", d)
	}
	rs, _ = read(SensorFaults{StickAfter: 5 * time.Minute, StickFor: 10 * time.Minute, DriftPerHour: 6}, 20)
	for i := 5; i < 15; i++ {
		if *rs[i].Temperature != *rs[4].Temperature || *rs[i].Humidity != *rs[4].Humidity {
			t.Fatalf("reading %d not stuck", i)
		}
	}
	if *rs[16].Temperature == *rs[4].Temperature {
		t.Error("still stuck after the window")
	}
	rs, _ = read(SensorFaults{ClockSkew: 90 * time.Second}, 1)
	if rs[0].TS != Timestamp(epoch.Add(90*time.Second)) {
		t.Errorf("skewed ts %s", rs[0].TS)
	}
	_, msgs := read(SensorFaults{DuplicateChance: 1}, 3)
	if len(msgs) != 6 || string(msgs[0]) != string(msgs[1]) {
		t.Errorf("duplicates: %d messages", len(msgs))
	}
	_, msgs = read(SensorFaults{OfflineAfter: 2 * time.Minute, OfflineFor: 3 * time.Minute}, 4)
	if len(msgs) != 2 {
		t.Errorf("offline: %d messages published during 4 readings, want 2", len(msgs))
	}
	_, msgs = read(SensorFaults{OfflineAfter: 2 * time.Minute, OfflineFor: 3 * time.Minute, DriftPerHour: 60}, 6)
	if len(msgs) != 6 {
		t.Fatalf("burst: %d messages, want 6", len(msgs))
	}
	var prev float64
	for i, m := range msgs {
		var r SensorReading
		json.Unmarshal(m, &r)
		if i > 0 && *r.Temperature <= prev {
			t.Errorf("burst out of order at %d", i)
		}
		prev = *r.Temperature
	}
	_, msgs = read(SensorFaults{SwapChance: 0.5, DriftPerHour: 60}, 40)
	swapped := 0
	for i := 1; i < len(msgs); i++ {
		var a, b SensorReading
		json.Unmarshal(msgs[i-1], &a)
		json.Unmarshal(msgs[i], &b)
		if *b.Temperature < *a.Temperature {
			swapped++
		}
	}
	if swapped == 0 {
		t.Error("no swapped delivery")
	}
}

func TestParseConfigFaultsYAML(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
broker: 127.0.0.1:1883
products: [{gtin: "00614141100019", company_prefix_length: 7}]
lots: [{gtin: "00614141100019", lot: L1, serial_first: 1, serial_last: 10}]
devices:
  - id: reefer-2
    kind: sensor
    site: wh1
    interval: 1m
    sensor:
      setpoint: 5
      ambient: 25
      time_constant: 1h
      unit: F
      faults:
        compressor_fail_after: 40m
        offline_after: 1h
        offline_for: 30m
        clock_skew: 90s
        duplicate_chance: 0.02
  - id: dock-in-2
    kind: rfid
    site: wh1
    format: zebra-fx
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Devices[0].Sensor
	if s.Unit != "F" || s.Faults.CompressorFailAfter != 40*time.Minute || s.Faults.ClockSkew != 90*time.Second || s.Noise != 0.1 || cfg.Devices[1].Format != FormatZebraFX {
		t.Fatalf("parsed %+v %+v", s, s.Faults)
	}
}
