package broker

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters used by HashPassword; see the package documentation
// for why these values.
const (
	argonMemoryKiB = 19 * 1024 // 19 MiB
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds CheckPassword accepts when reading parameters back from a PHC
// string, so that a hand-edited hash cannot make one login allocate
// gigabytes or spin for minutes.
const (
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 64
	minArgonSaltLen   = 8
	minArgonKeyLen    = 16
	maxArgonKeyLen    = 128
)

// ErrMalformedHash is wrapped by the error CheckPassword returns for a hash
// that is not an argon2id PHC string it can verify.
var ErrMalformedHash = errors.New("malformed argon2id password hash")

// HashPassword returns an argon2id PHC string for pw
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash) with a fresh random salt.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("hash password: empty password")
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the argon2id PHC string hash,
// comparing in constant time. It uses the parameters recorded in the hash,
// so hashes made with other (bounded) parameters still verify. A malformed
// hash returns false and an error wrapping ErrMalformedHash.
func CheckPassword(hash, pw string) (bool, error) {
	p, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC parses and bounds-checks $argon2id$v=19$m=M,t=T,p=P$salt$key.
func parsePHC(s string) (phc, error) {
	var p phc
	fail := func(why string) (phc, error) { return phc{}, fmt.Errorf("%w: %s", ErrMalformedHash, why) }
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[1] != "argon2id" {
		return fail(fmt.Sprintf("algorithm %q is not argon2id", parts[1]))
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail(fmt.Sprintf("version %q is not v=%d", parts[2], argon2.Version))
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return fail(fmt.Sprintf("parameter %q", kv))
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fail(fmt.Sprintf("parameter %q", kv))
		}
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return fail("parallelism above 255")
			}
			p.threads = uint8(n)
		default:
			return fail(fmt.Sprintf("unknown parameter %q", k))
		}
	}
	switch {
	case len(seen) != 3:
		return fail("need m, t and p")
	case p.threads < 1:
		return fail("parallelism below 1")
	case p.time < 1 || p.time > maxArgonTime:
		return fail(fmt.Sprintf("time cost %d not in 1..%d", p.time, maxArgonTime))
	case p.memory < 8*uint32(p.threads) || p.memory > maxArgonMemoryKiB:
		return fail(fmt.Sprintf("memory %d KiB not in %d..%d", p.memory, 8*uint32(p.threads), maxArgonMemoryKiB))
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(p.salt) < minArgonSaltLen {
		return fail("salt is not unpadded base64 of at least 8 bytes")
	}
	if p.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(p.key) < minArgonKeyLen || len(p.key) > maxArgonKeyLen {
		return fail("hash is not unpadded base64 of 16 to 128 bytes")
	}
	return p, nil
}
