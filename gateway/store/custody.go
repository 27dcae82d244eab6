package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// More key prefixes: the current state of every identified object, the
// current children of every parent, and sensor readings by what they
// watch.
const (
	pCurrent  = "cs/" // cs/{epc} -> Current
	pChildren = "ch/" // ch/{parent}\x00{child} -> nil (children it holds now)
	pAt       = "at/" // at/{location}\x00{epc} -> nil (objects whose latest event is there)
	// IdxSensor indexes sensor events by their subjects (the places and
	// containers a sensor watches); the value is the Reading.
	IdxSensor = "sr"
)

// Aggregation is what an AggregationEvent says about containment.
type Aggregation struct {
	Action   string   // ADD, OBSERVE or DELETE
	Parent   string   // canonical ID
	Children []string // canonical IDs; empty DELETE = all children
}

// SensorValues are the measurements of one sensor event.
type SensorValues struct {
	Sensor   string   `json:"s"`
	TempC    *float64 `json:"t,omitempty"`
	Humidity *float64 `json:"h,omitempty"`
	// Where is the sensor's own place (its business location, else its
	// read point), as the event names it.
	Where string `json:"w,omitempty"`
	// Subjects are what the sensor watches: its business location (or read
	// point) and the containers it is attached to.
	Subjects []string `json:"-"`
}

// Current is the latest known state of an identified object (a pack, a
// case, a pallet, a vehicle): its latest event and the parent holding it.
type Current struct {
	At          time.Time `json:"at"`
	EventID     string    `json:"eventID"`
	Type        string    `json:"type"`
	Action      string    `json:"action,omitempty"`
	BizStep     string    `json:"bizStep,omitempty"`
	Disposition string    `json:"disposition,omitempty"`
	BizLocation string    `json:"bizLocation,omitempty"`
	ReadPoint   string    `json:"readPoint,omitempty"`
	Parent      string    `json:"parent,omitempty"`
	ParentSince time.Time `json:"parentSince,omitzero"`
}

// SensorReading is an indexed sensor reading.
type SensorReading struct {
	Hash  [32]byte
	At    time.Time
	Value SensorValues
}

// updateCurrent folds one event into the current state of the objects it
// names. An event older than an object's current state changes nothing
// (late events still count in histories, which are built from the
// indexes).
func updateCurrent(txn *badger.Txn, ev IndexedEvent) error {
	r := ev.Record
	for _, e := range uniq(ev.EPCs) {
		var cur Current
		err := getJSON(txn, []byte(pCurrent+e), &cur)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil && r.EventTime.Before(cur.At) {
			continue
		}
		next := cur
		next.At, next.EventID, next.Type, next.Action = r.EventTime, r.EventID, r.Type, ev.Action
		next.BizStep, next.Disposition = r.BizStep, ev.Disposition
		if ev.BizLocation != "" || ev.ReadPoint != "" {
			if old := placeOf(cur); old != "" {
				if err := txn.Delete(atKey(old, e)); err != nil {
					return err
				}
			}
			next.BizLocation, next.ReadPoint = ev.BizLocation, ev.ReadPoint
			if place := placeOf(next); place != "" {
				if err := txn.Set(atKey(place, e), nil); err != nil {
					return err
				}
			}
		}
		if a := ev.Aggregation; a != nil && e != a.Parent {
			switch a.Action {
			case "ADD", "OBSERVE":
				if next.Parent != "" && next.Parent != a.Parent {
					if err := txn.Delete(childKey(next.Parent, e)); err != nil {
						return err
					}
				}
				next.Parent, next.ParentSince = a.Parent, r.EventTime
				if err := txn.Set(childKey(a.Parent, e), nil); err != nil {
					return err
				}
			case "DELETE":
				if next.Parent == a.Parent {
					next.Parent, next.ParentSince = "", time.Time{}
					if err := txn.Delete(childKey(a.Parent, e)); err != nil {
						return err
					}
				}
			}
		}
		if err := setJSON(txn, []byte(pCurrent+e), next); err != nil {
			return err
		}
	}
	// An empty DELETE disaggregates every current child of the parent.
	if a := ev.Aggregation; a != nil && a.Action == "DELETE" && len(a.Children) == 0 {
		kids, err := children(txn, a.Parent)
		if err != nil {
			return err
		}
		for _, k := range kids {
			var cur Current
			if err := getJSON(txn, []byte(pCurrent+k), &cur); err != nil {
				continue
			}
			if cur.Parent == a.Parent && !r.EventTime.Before(cur.ParentSince) {
				// Unpacked where the parent was unpacked.
				if old := placeOf(cur); old != "" {
					if err := txn.Delete(atKey(old, k)); err != nil {
						return err
					}
				}
				cur.Parent, cur.ParentSince = "", time.Time{}
				if !r.EventTime.Before(cur.At) {
					cur.At, cur.EventID, cur.Type, cur.Action = r.EventTime, r.EventID, r.Type, ev.Action
					cur.BizStep, cur.Disposition = r.BizStep, ev.Disposition
					if ev.BizLocation != "" || ev.ReadPoint != "" {
						cur.BizLocation, cur.ReadPoint = ev.BizLocation, ev.ReadPoint
					}
				}
				if place := placeOf(cur); place != "" {
					if err := txn.Set(atKey(place, k), nil); err != nil {
						return err
					}
				}
				if err := setJSON(txn, []byte(pCurrent+k), cur); err != nil {
					return err
				}
			}
			if err := txn.Delete(childKey(a.Parent, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// placeOf is where an object is by its current state: its business
// location, else its read point.
func placeOf(c Current) string {
	if c.BizLocation != "" {
		return c.BizLocation
	}
	return c.ReadPoint
}

func atKey(place, id string) []byte { return []byte(pAt + place + "\x00" + id) }

// At lists the objects whose latest event puts them at place, up to limit
// (0: all).
func (s *Store) At(place string, limit int) ([]string, error) {
	prefix := []byte(pAt + place + "\x00")
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid() && (limit <= 0 || len(out) < limit); it.Next() {
			out = append(out, string(it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	return out, err
}

func childKey(parent, child string) []byte { return []byte(pChildren + parent + "\x00" + child) }

func children(txn *badger.Txn, parent string) ([]string, error) {
	prefix := []byte(pChildren + parent + "\x00")
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, string(it.Item().Key()[len(prefix):]))
	}
	return out, nil
}

func uniq(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// indexSensor indexes a sensor event under each of its subjects.
func indexSensor(txn *badger.Txn, ev IndexedEvent) error {
	sv := ev.Sensor
	if sv == nil {
		return nil
	}
	b, err := json.Marshal(sv)
	if err != nil {
		return err
	}
	for _, s := range uniq(sv.Subjects) {
		if err := txn.Set(indexKey(IdxSensor, s, ev.Record.EventTime, ev.Hash), b); err != nil {
			return err
		}
	}
	return nil
}

// Current returns the current state of an object, or ErrNotFound.
func (s *Store) Current(id string) (Current, error) {
	var c Current
	err := s.db.View(func(txn *badger.Txn) error { return getJSON(txn, []byte(pCurrent+id), &c) })
	return c, err
}

// CurrentMany returns the current states of many objects in one read
// transaction; unknown IDs are left out.
func (s *Store) CurrentMany(ids []string) (map[string]Current, error) {
	out := make(map[string]Current, len(ids))
	err := s.db.View(func(txn *badger.Txn) error {
		for _, id := range ids {
			var c Current
			err := getJSON(txn, []byte(pCurrent+id), &c)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[id] = c
		}
		return nil
	})
	return out, err
}

// Children lists the objects a parent holds now.
func (s *Store) Children(parent string) ([]string, error) {
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		out, err = children(txn, parent)
		return err
	})
	return out, err
}

// Readings returns the sensor readings of a subject in [from, to) (zero
// times for open ends), in time order, up to limit (0: no limit).
func (s *Store) Readings(subject string, from, to time.Time, limit int) ([]SensorReading, error) {
	prefix := indexPrefix(IdxSensor, subject)
	lo := append(append([]byte{}, prefix...), time8(from)...)
	var hi []byte
	if !to.IsZero() {
		hi = append(append([]byte{}, prefix...), time8(to)...)
	}
	var out []SensorReading
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(lo); it.ValidForPrefix(prefix); it.Next() {
			k := it.Item().Key()
			if hi != nil && bytes.Compare(k, hi) >= 0 {
				break
			}
			if len(k) < len(prefix)+40 {
				continue
			}
			var r SensorReading
			copy(r.Hash[:], k[len(k)-32:])
			r.At = readTime8(k[len(prefix) : len(prefix)+8])
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &r.Value) }); err != nil {
				return err
			}
			out = append(out, r)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// SensorSubjects lists every subject with sensor readings (for the cold
// chain's overview), up to limit.
func (s *Store) SensorSubjects(limit int) ([]string, error) {
	prefix := []byte(pIndex + IdxSensor + "/")
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			k := it.Item().Key()
			i := bytes.IndexByte(k[len(prefix):], 0)
			if i < 0 {
				it.Next()
				continue
			}
			subj := string(k[len(prefix) : len(prefix)+i])
			out = append(out, subj)
			if limit > 0 && len(out) >= limit {
				return nil
			}
			it.Seek(append(append(append([]byte{}, prefix...), subj...), 1))
		}
		return nil
	})
	return out, err
}
