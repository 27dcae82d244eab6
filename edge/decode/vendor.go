package decode

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Impinj IoT device interface event types other than tagInventory: reader
// status, counted by type. Any other type without tag data is counted as
// "unknown" (a bounded metric label whatever a reader sends).
var impinjStatusTypes = map[string]bool{
	"inventoryStatus": true, "inventoryTerminate": true, "diagnostic": true,
	"antennaConnected": true, "antennaDisconnected": true, "overflow": true,
	"gpiTransition": true, "gpoTransition": true, "userEvent": true,
	"tagLocationEntry": true, "tagLocationUpdate": true, "tagLocationExit": true,
}

// decodeImpinj decodes one Impinj IoT device interface event:
//
//	{"timestamp": "…", "hostname": "…", "eventType": "tagInventory",
//	 "tagInventoryEvent": {"epc": "<base64>", "epcHex": "…", "antennaPort": 1,
//	  "peakRssiCdbm": -5250, "lastSeenTime": "…", …}}
//
// Fields the edge does not use (hostname, tidHex, antennaName, frequency,
// transmitPowerCdbm, phaseAngle, and whatever a firmware adds) are ignored.
func decodeImpinj(m map[string]any, recv time.Time, lim Limits) (Read, *Status, *Error) {
	et, ok := m["eventType"].(string)
	tie, hasTIE := m["tagInventoryEvent"]
	if _, present := m["eventType"]; present && !ok {
		return Read{}, nil, errorf(ReasonValue, "impinj eventType must be a string, not %s", describe(m["eventType"]))
	}
	switch {
	case et == "tagInventory":
	case !hasTIE:
		typ := et
		if !impinjStatusTypes[et] {
			typ = "unknown"
		}
		return Read{}, &Status{Vendor: FormatImpinj, Type: typ}, nil
	case et == "":
		return Read{}, nil, errorf(ReasonValue, "impinj event with tagInventoryEvent has no eventType")
	default:
		return Read{}, nil, errorf(ReasonValue, "impinj event of type %q carries tagInventoryEvent", truncate(et, 40))
	}
	ev, ok := tie.(map[string]any)
	if !ok {
		return Read{}, nil, errorf(ReasonEPC, "impinj tagInventory event: tagInventoryEvent must be an object, not %s", describe(tie))
	}
	var (
		r   Read
		err *Error
	)
	switch h, b64 := ev["epcHex"], ev["epc"]; {
	case h != nil:
		s, ok := h.(string)
		if !ok {
			return Read{}, nil, errorf(ReasonEPC, "impinj tagInventory event: epcHex must be a string, not %s", describe(h))
		}
		r, err = readEPC("epcHex", s)
	case b64 != nil:
		s, ok := b64.(string)
		if !ok {
			return Read{}, nil, errorf(ReasonEPC, "impinj tagInventory event: epc must be a base64 string, not %s", describe(b64))
		}
		raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if derr != nil || len(raw) == 0 {
			return Read{}, nil, errorf(ReasonEPC, "impinj tagInventory event: epc %q is not base64 of the EPC bank", truncate(s, 80))
		}
		r, err = readEPC("epc", strings.ToUpper(hex.EncodeToString(raw)))
	default:
		return Read{}, nil, errorf(ReasonEPC, "impinj tagInventory event without an EPC (neither epcHex nor epc; enable them in the reader's eventConfig)")
	}
	if err != nil {
		return Read{}, nil, err
	}
	tv := ev["lastSeenTime"]
	key := "lastSeenTime"
	if tv == nil {
		tv, key = m["timestamp"], "timestamp"
	}
	if r.Time, r.DeviceClock, err = parseTimeField(key, tv, recv, lim); err != nil {
		return Read{}, nil, err
	}
	if r.Antenna, err = antenna(ev, "antennaPort"); err != nil {
		return Read{}, nil, err
	}
	if r.RSSI, err = rssi(ev, "peakRssiCdbm", 100); err != nil {
		return Read{}, nil, err
	}
	r.Format = FormatImpinj
	return r, nil, nil
}

// decodeZebraFX decodes one Zebra FX IoT Connector data event:
//
//	{"data": {"eventNum": 123, "format": "epc", "idHex": "…", "antenna": 1,
//	  "peakRssi": -52, "channel": 915.25, "reads": 3},
//	 "timestamp": "2026-11-25T10:00:00.123+0000", "type": "SIMPLE"}
//
// Only EPC reports become reads; TID or user-memory reports (format "tid",
// "user") and the handheld dataEVT form (data.tagData[]) are dead letters
// with reason unsupported-format.
func decodeZebraFX(m map[string]any, recv time.Time, lim Limits) (Read, *Error) {
	d, ok := m["data"].(map[string]any)
	if !ok {
		return Read{}, errorf(ReasonValue, "zebra event: data must be an object, not %s", describe(m["data"]))
	}
	if _, ok := d["tagData"]; ok {
		return Read{}, errorf(ReasonFormat, "zebra handheld dataEVT (data.tagData) is not supported yet: its tag record fields are not confirmed")
	}
	if f, present := d["format"]; present {
		s, ok := f.(string)
		if !ok {
			return Read{}, errorf(ReasonValue, "zebra data.format must be a string, not %s", describe(f))
		}
		if !strings.EqualFold(s, "epc") {
			return Read{}, errorf(ReasonFormat, "zebra data.format %q: only \"epc\" reports become reads", truncate(s, 40))
		}
	}
	id, ok := d["idHex"].(string)
	if !ok {
		if v, present := d["idHex"]; present {
			return Read{}, errorf(ReasonEPC, "zebra data.idHex must be a string, not %s", describe(v))
		}
		return Read{}, errorf(ReasonEPC, "zebra data event without data.idHex")
	}
	r, err := readEPC("idHex", id)
	if err != nil {
		return Read{}, err
	}
	if r.Time, r.DeviceClock, err = parseTimeField("timestamp", m["timestamp"], recv, lim); err != nil {
		return Read{}, err
	}
	if r.Antenna, err = antenna(d, "antenna"); err != nil {
		return Read{}, err
	}
	if r.RSSI, err = rssi(d, "peakRssi", 1); err != nil {
		return Read{}, err
	}
	if v, present := d["eventNum"]; present && v != nil {
		n, ok := v.(json.Number)
		if !ok {
			return Read{}, errorf(ReasonValue, "zebra data.eventNum must be a number, not %s", describe(v))
		}
		i, perr := n.Int64()
		if perr != nil || i < 0 {
			return Read{}, errorf(ReasonValue, "zebra data.eventNum %s is not a non-negative integer", truncate(n.String(), 40))
		}
		r.EventNum = &i
	}
	r.Format = FormatZebraFX
	return r, nil
}
