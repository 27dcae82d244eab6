// Package backend opens a ledger backend from configuration: the embedded
// ledger (the default) or Hyperledger Fabric.
package backend

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
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
		l, err := embedded.Open(c.Dir, embedded.Config{
			Channel:     c.Channel,
			Members:     embedded.MembersOf(keys),
			Keys:        held,
			Collections: c.Collections,
			Logger:      log,
		})
		if err != nil {
			return nil, fmt.Errorf("open embedded ledger: %w", err)
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
