package embedded

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
)

// Member is a consortium member: an organisation and the Ed25519 public key
// its transactions are signed with.
type Member struct {
	Org       string            `json:"org"`
	PublicKey ed25519.PublicKey `json:"publicKey"`
}

// Collection is a private data collection and the orgs that may read and
// write it.
type Collection struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Config configures Open.
type Config struct {
	// Channel names the ledger, like a Fabric channel; default "tracegate".
	Channel string
	// Chaincode names the contract in Info; default "tracegate".
	Chaincode string
	// Members is the consortium. The first Open records it in the genesis
	// block; later Opens must name the same members (or none, to take
	// them from the ledger). Change membership with AddMember.
	Members []Member
	// Keys are the identities this process may sign as, by org. A member's
	// own gateway holds only its own key; a demo gateway may hold all.
	Keys map[string]ed25519.PrivateKey
	// Collections are the private data collections, recorded in the
	// genesis block like Members (changing them is not supported yet).
	Collections []Collection
	// MaxBlockTxs bounds how many queued transactions share one block;
	// default 64.
	MaxBlockTxs int
	// Logger receives Badger's warnings and errors and the ledger's own
	// background failures; nil discards them.
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultChannel     = "tracegate"
	DefaultChaincode   = "tracegate"
	DefaultMaxBlockTxs = 64
)

// ChainConfig is the channel configuration recorded in the genesis block
// and in every membership change.
type ChainConfig struct {
	Channel     string       `json:"channel"`
	Members     []Member     `json:"members"`
	Collections []Collection `json:"collections"`
}

// member returns the member org's public key.
func (c *ChainConfig) member(org string) (ed25519.PublicKey, bool) {
	for _, m := range c.Members {
		if m.Org == org {
			return m.PublicKey, true
		}
	}
	return nil, false
}

// collection returns the named collection.
func (c *ChainConfig) collection(name string) (Collection, bool) {
	for _, col := range c.Collections {
		if col.Name == name {
			return col, true
		}
	}
	return Collection{}, false
}

// clone returns a deep copy.
func (c *ChainConfig) clone() *ChainConfig {
	out := &ChainConfig{Channel: c.Channel}
	for _, m := range c.Members {
		out.Members = append(out.Members, Member{Org: m.Org, PublicKey: slices.Clone(m.PublicKey)})
	}
	for _, col := range c.Collections {
		out.Collections = append(out.Collections, Collection{Name: col.Name, Members: slices.Clone(col.Members)})
	}
	return out
}

// normalise sorts members and collections so equal configs compare equal.
func (c *ChainConfig) normalise() {
	sort.Slice(c.Members, func(i, j int) bool { return c.Members[i].Org < c.Members[j].Org })
	for i := range c.Collections {
		c.Collections[i].Members = slices.Clone(c.Collections[i].Members)
		sort.Strings(c.Collections[i].Members)
	}
	sort.Slice(c.Collections, func(i, j int) bool { return c.Collections[i].Name < c.Collections[j].Name })
	if c.Members == nil {
		c.Members = []Member{}
	}
	if c.Collections == nil {
		c.Collections = []Collection{}
	}
}

// validate checks a chain config for duplicate, malformed or unknown names.
func (c *ChainConfig) validate() error {
	if err := checkName("channel", c.Channel); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, m := range c.Members {
		if err := checkName("member org", m.Org); err != nil {
			return err
		}
		if seen[m.Org] {
			return fmt.Errorf("member org %s is listed twice", m.Org)
		}
		seen[m.Org] = true
		if len(m.PublicKey) != ed25519.PublicKeySize {
			return fmt.Errorf("member %s: public key is %d bytes, want %d", m.Org, len(m.PublicKey), ed25519.PublicKeySize)
		}
	}
	cols := map[string]bool{}
	for _, col := range c.Collections {
		if err := checkName("collection", col.Name); err != nil {
			return err
		}
		if cols[col.Name] {
			return fmt.Errorf("collection %s is listed twice", col.Name)
		}
		cols[col.Name] = true
		if len(col.Members) == 0 {
			return fmt.Errorf("collection %s has no members", col.Name)
		}
		for _, org := range col.Members {
			if !seen[org] {
				return fmt.Errorf("collection %s names org %s, which is not a member", col.Name, org)
			}
		}
	}
	return nil
}

// diff describes how c differs from want, or "" when they are equal.
func (c *ChainConfig) diff(want *ChainConfig) string {
	var out []string
	if want.Channel != c.Channel {
		out = append(out, fmt.Sprintf("channel is %q, config says %q", c.Channel, want.Channel))
	}
	for _, m := range want.Members {
		pub, ok := c.member(m.Org)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("org %s is not a member (add it with AddMember)", m.Org))
		case !pub.Equal(m.PublicKey):
			out = append(out, fmt.Sprintf("member %s has a different public key", m.Org))
		}
	}
	for _, m := range c.Members {
		if _, ok := want.member(m.Org); !ok {
			out = append(out, fmt.Sprintf("member %s is missing from the config", m.Org))
		}
	}
	if want.Collections != nil && !slices.EqualFunc(c.Collections, want.Collections, func(a, b Collection) bool {
		return a.Name == b.Name && slices.Equal(a.Members, b.Members)
	}) {
		out = append(out, "private data collections differ (changing them is not supported)")
	}
	return strings.Join(out, "; ")
}

// checkName checks an org, channel or collection name: it becomes part of
// file names and storage keys.
func checkName(what, s string) error {
	if s == "" || len(s) > 64 || s[0] == '.' || s[0] == '-' {
		return fmt.Errorf("%s %q: 1 to 64 characters, not starting with . or -", what, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%s %q may use only A-Z, a-z, 0-9, '.', '_' and '-'", what, s)
		}
	}
	return nil
}
