package store

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
)

const (
	pAlert    = "al/"  // al/{time8}{id} -> alert JSON (by time)
	pAlertID  = "ali/" // ali/{id} -> key of the alert
	pAlertOrg = "alo/" // alo/{org}\x00{time8}{id} -> nil
	pLedgerCP = "meta/ledger-checkpoint"
)

// PutAlert stores an alert once: it reports false when an alert with the
// same ID is already stored. orgs are the organisations that see it.
func (s *Store) PutAlert(id string, at time.Time, orgs []string, alert any) (bool, error) {
	b, err := json.Marshal(alert)
	if err != nil {
		return false, err
	}
	added := false
	err = s.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get([]byte(pAlertID + id)); err == nil {
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		k := append(append([]byte(pAlert), time8(at)...), id...)
		if err := txn.Set(k, b); err != nil {
			return err
		}
		if err := txn.Set([]byte(pAlertID+id), k); err != nil {
			return err
		}
		for _, o := range uniq(orgs) {
			ok := append(append([]byte(pAlertOrg+o+"\x00"), time8(at)...), id...)
			if err := txn.Set(ok, k); err != nil {
				return err
			}
		}
		added = true
		return nil
	})
	return added, err
}

// Alerts returns the newest alerts (of one org when org is set; all
// otherwise), newest first, as raw JSON.
func (s *Store) Alerts(org string, limit int) ([]json.RawMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	prefix := []byte(pAlert)
	if org != "" {
		prefix = []byte(pAlertOrg + org + "\x00")
	}
	var out []json.RawMessage
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(append([]byte{}, prefix...), 0xff)); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			var raw []byte
			if org == "" {
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				raw = v
			} else {
				k, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				item, err := txn.Get(k)
				if err != nil {
					continue
				}
				if raw, err = item.ValueCopy(nil); err != nil {
					return err
				}
			}
			out = append(out, raw)
		}
		return nil
	})
	return out, err
}

// LedgerCheckpoint returns where the gateway's ledger-event watcher
// resumes (JSON of ledger.Checkpoint; nil before the first event).
func (s *Store) LedgerCheckpoint() ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(pLedgerCP))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	return out, err
}

// SetLedgerCheckpoint records the watcher's position.
func (s *Store) SetLedgerCheckpoint(b []byte) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(pLedgerCP), b) })
}

const (
	pSuspect    = "sp/"  // sp/{epc}\x00{reason} -> flag JSON (the first time it was raised)
	pSuspectRec = "spr/" // spr/{time8}{epc}\x00{reason} -> nil
	pSuspectEv  = "spe/" // spe/{eventID} -> reason (events that raised a flag)
)

// PutSuspect stores a suspect flag for a pack once per reason.
func (s *Store) PutSuspect(epc, reason, eventID string, at time.Time, flag []byte) error {
	return s.db.Update(func(txn *badger.Txn) error {
		// Every event that raised it is marked, the flag is kept once.
		if eventID != "" {
			if err := txn.Set([]byte(pSuspectEv+eventID), []byte(reason)); err != nil {
				return err
			}
		}
		k := []byte(pSuspect + epc + "\x00" + reason)
		if _, err := txn.Get(k); err == nil {
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err := txn.Set(k, flag); err != nil {
			return err
		}
		return txn.Set(append(append([]byte(pSuspectRec), time8(at)...), []byte(epc+"\x00"+reason)...), nil)
	})
}

// SuspectsOf returns the flags of one pack.
func (s *Store) SuspectsOf(epc string) ([]json.RawMessage, error) {
	prefix := []byte(pSuspect + epc + "\x00")
	var out []json.RawMessage
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// RecentSuspects returns the newest flags, newest first.
func (s *Store) RecentSuspects(limit int) ([]json.RawMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	prefix := []byte(pSuspectRec)
	var out []json.RawMessage
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(append([]byte{}, prefix...), 0xff)); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			k := it.Item().Key()
			item, err := txn.Get(append([]byte(pSuspect), k[len(prefix)+8:]...))
			if err != nil {
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// SuspectEvents returns which of the given events raised a suspect flag,
// with the reason.
func (s *Store) SuspectEvents(ids []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(txn *badger.Txn) error {
		for _, id := range ids {
			it, err := txn.Get([]byte(pSuspectEv + id))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			v, err := it.ValueCopy(nil)
			if err != nil {
				return err
			}
			out[id] = string(v)
		}
		return nil
	})
	return out, err
}
