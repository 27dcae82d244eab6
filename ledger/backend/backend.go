// Package backend opens a ledger backend from configuration: the embedded
// ledger (the default) or Hyperledger Fabric.
package backend

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tracegate/tracegate/ledger"
	"github.com/tracegate/tracegate/ledger/embedded"
	"github.com/tracegate/tracegate/ledger/fabric"
)

// Config selects and configures a ledger backend.
type Config struct {
	// Kind is "embedded" (default).
	Kind string `yaml:"kind"`
	// Embedded backend: Dir holds the chain; KeysDir the org identity keys
	// (<org>.key, created on first use); Orgs the consortium members (and
	// the identities this process may sign as: a member's own gateway lists
	// only itself in Sign).
	Dir     string   `yaml:"dir"`
	KeysDir string   `yaml:"keysDir"`
	Channel string   `yaml:"channel"`
	Orgs    []string `yaml:"orgs"`
	Sign    []string `yaml:"sign"`
	// Collections are the private data collections (embedded: recorded at
	// genesis).
	Collections []embedded.Collection `yaml:"collections"`
	// KeepMembers opens an existing embedded ledger without adding the
	// configured orgs it lacks (checks such as fsck write nothing).
	KeepMembers bool `yaml:"-"`
	// Fabric backend: the connection (tracegate fabric up prints one).
	Fabric fabric.Config `yaml:"fabric"`
}

// Validate checks the configuration and fills defaults relative to dataDir.
func (c *Config) Validate(dataDir string) error {
	if c.Kind == "" {
		c.Kind = ledger.KindEmbedded
	}
	switch c.Kind {
	case ledger.KindEmbedded:
		if c.Dir == "" {
			c.Dir = filepath.Join(dataDir, "ledger")
		}
		if c.KeysDir == "" {
			c.KeysDir = filepath.Join(c.Dir, "identities")
		}
		if len(c.Orgs) == 0 {
			return errors.New("ledger.orgs is empty: list the consortium's organisations (MSP IDs)")
		}
		if len(c.Sign) == 0 {
			c.Sign = c.Orgs
		}
	case ledger.KindFabric:
		if err := c.Fabric.Validate(); err != nil {
			return fmt.Errorf("ledger.fabric: %w", err)
		}
	default:
		return fmt.Errorf("ledger.kind %q is not supported (want %q or %q)", c.Kind, ledger.KindEmbedded, ledger.KindFabric)
	}
	return nil
}

// Open opens the configured backend.
func Open(c Config, log *slog.Logger) (ledger.Ledger, error) {
	switch c.Kind {
	case ledger.KindEmbedded, "":
		keys, err := embedded.LoadOrCreateKeys(c.KeysDir, c.Orgs)
		if err != nil {
			return nil, fmt.Errorf("ledger identities: %w", err)
		}
		sign := map[string]bool{}
		for _, o := range c.Sign {
			sign[o] = true
		}
		held := make(map[string]ed25519.PrivateKey, len(keys))
		for org, k := range keys {
			if sign[org] {
				held[org] = k
			}
		}
		// An existing ledger keeps its members; orgs the config adds
		// (the consortium grew since it was created) join in
		// configuration blocks, like a Fabric channel update.
		_, statErr := os.Stat(filepath.Join(c.Dir, "MANIFEST"))
		existing := statErr == nil
		members := embedded.MembersOf(keys)
		ecfg := embedded.Config{Channel: c.Channel, Members: members, Keys: held, Collections: c.Collections, Logger: log}
		if existing {
			// Members are reconciled below (keys of new members are
			// taken up once they joined); collections cannot change (a
			// ledger created without one answers that it has none).
			ecfg.Members, ecfg.Collections, ecfg.Keys = nil, nil, nil
		}
		l, err := embedded.Open(c.Dir, ecfg)
		if err != nil {
			return nil, fmt.Errorf("open embedded ledger: %w", err)
		}
		if existing {
			if err := addMembers(l, members, held, !c.KeepMembers, log); err != nil {
				l.Close()
				return nil, err
			}
		}
		return l, nil
	case ledger.KindFabric:
		l, err := fabric.New(c.Fabric, fabric.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("connect to Fabric: %w", err)
		}
		return l, nil
	}
	return nil, fmt.Errorf("ledger kind %q is not supported", c.Kind)
}

// addMembers adds the configured orgs an existing embedded ledger does not
// have, signed by a member whose key this process holds; a member whose
// key differs from the configured one is an error.
func addMembers(l *embedded.Ledger, want []embedded.Member, held map[string]ed25519.PrivateKey, add bool, log *slog.Logger) error {
	have := map[string]ed25519.PublicKey{}
	by := ""
	for _, m := range l.Members() {
		have[m.Org] = m.PublicKey
		if k, ok := held[m.Org]; ok {
			if err := l.HoldKey(m.Org, k); err != nil {
				return fmt.Errorf("open embedded ledger: %w: was the identities directory replaced? restore it, or start with a fresh --data", err)
			}
			if by == "" {
				by = m.Org
			}
		}
	}
	for _, m := range want {
		pub, ok := have[m.Org]
		if ok {
			if !pub.Equal(m.PublicKey) {
				return fmt.Errorf("open embedded ledger: member %s has a different public key than its identity file: was the identities directory replaced? restore it, or start with a fresh --data", m.Org)
			}
			continue
		}
		if !add {
			log.Info("configured org is not a member of this ledger; left as it is", "org", m.Org)
			continue
		}
		if by == "" {
			return fmt.Errorf("open embedded ledger: cannot add member %s: this process holds no key of a current member", m.Org)
		}
		n, err := l.AddMember(context.Background(), ledger.Identity{Org: by, User: ledger.AdminUser}, m)
		if err != nil {
			return fmt.Errorf("open embedded ledger: add member %s: %w", m.Org, err)
		}
		log.Info("consortium member added", "org", m.Org, "by", by, "configBlock", n)
		if k, ok := held[m.Org]; ok {
			if err := l.HoldKey(m.Org, k); err != nil {
				return fmt.Errorf("open embedded ledger: %w", err)
			}
		}
	}
	return nil
}
