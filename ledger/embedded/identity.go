package embedded

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// GenerateIdentity returns a new Ed25519 organisation identity.
func GenerateIdentity() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate identity: %w", err)
	}
	return pub, priv, nil
}

// MembersOf returns the members whose keys are given, sorted by org: the
// consortium of a demo process that holds every member's key.
func MembersOf(keys map[string]ed25519.PrivateKey) []Member {
	out := make([]Member, 0, len(keys))
	for org, k := range keys {
		out = append(out, Member{Org: org, PublicKey: k.Public().(ed25519.PublicKey)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Org < out[j].Org })
	return out
}

// LoadOrCreateKeys loads the identity key of each org from dir/<org>.key
// (PKCS #8 PEM), creating the directory (0700) and any missing key (0600).
// It refuses a key file that others may read.
func LoadOrCreateKeys(dir string, orgs []string) (map[string]ed25519.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	keys := make(map[string]ed25519.PrivateKey, len(orgs))
	for _, org := range orgs {
		if err := checkName("org", org); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, org+".key")
		k, err := loadKey(path)
		if errors.Is(err, fs.ErrNotExist) {
			k, err = createKey(path)
		}
		if err != nil {
			return nil, fmt.Errorf("identity of %s: %w", org, err)
		}
		keys[org] = k
	}
	return keys, nil
}

func loadKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); chmod 600 it", path, st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: no PEM PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not an Ed25519 key", path, k)
	}
	return ek, nil
}

func createKey(path string) (ed25519.PrivateKey, error) {
	_, priv, err := GenerateIdentity()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", path, err)
	}
	return priv, nil
}
