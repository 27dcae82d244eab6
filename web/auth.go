package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/crypto/argon2"

	"github.com/tracegate/tracegate/ledger"
)

// Portal users and sessions live in the gateway store under their own
// prefixes.
const (
	prefixUser    = "wu/" // wu/{username} -> userRecord
	prefixSession = "ws/" // ws/{hex sha256(session id)} -> session
)

// User is a portal user: a person of a consortium organisation with a role
// (the roles of the contract's registry).
type User struct {
	Username string `json:"username"`
	Org      string `json:"org"`
	Role     string `json:"role"`
	// LedgerUser is the ledger identity (of Org) the user's work is
	// signed as, when it is not the user name: on Fabric, an enrolled
	// identity such as "User1" (see EnsureLedgerUser).
	LedgerUser string    `json:"ledgerUser,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

type userRecord struct {
	User
	// Hash is the argon2id password hash as a PHC string:
	// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>.
	Hash string `json:"hash"`
}

// roles are the portal roles, those of the ledger's user registry.
var roles = []string{ledger.RoleOrgAdmin, ledger.RoleOperator, ledger.RoleQuality, ledger.RoleCharityOfficer,
	ledger.RoleHospitalReceiver, ledger.RoleInsurerAssessor, ledger.RoleRegulatorInspector}

// Password hashing parameters (OWASP's argon2id baseline: 19 MiB, 2 passes).
const (
	argonMemory  = 19 * 1024
	argonPasses  = 2
	argonLanes   = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLength is the shortest password EnsureUser accepts.
const MinPasswordLength = 10

func hashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonPasses, argonMemory, argonLanes, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonPasses, argonLanes,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkPassword compares pw with a PHC argon2id hash in constant time.
func checkPassword(phc, pw string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, fmt.Errorf("argon2 version %q not supported", parts[2])
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 64 {
		return false, fmt.Errorf("argon2 parameters %q unreadable", parts[3])
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, err
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errors.New("argon2 hash unreadable")
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when a user does not exist, so that a
// wrong user name takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword("tracegate-no-such-user")
	return h
})

// userStore keeps users and sessions in Badger.
type userStore struct {
	db  *badger.DB
	now func() time.Time
}

func validUsername(u string) error {
	if u == "" || len(u) > 64 {
		return errors.New("user name: 1 to 64 characters")
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return fmt.Errorf("user name %q: use letters, digits and . _ @ - only", u)
		}
	}
	return nil
}

func (s *userStore) get(username string) (userRecord, error) {
	var u userRecord
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(prefixUser + strings.ToLower(username)))
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error { return json.Unmarshal(b, &u) })
	})
	return u, err
}

func (s *userStore) put(u userRecord) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(prefixUser+strings.ToLower(u.Username)), b)
	})
}

// EnsureUser creates a portal user unless one with that name exists. An
// existing user is left as it is (its password is never overwritten: use
// SetPassword). tracegate up calls it for the admin on every start.
func (a *App) EnsureUser(username, password, org, role string) error {
	return a.EnsureLedgerUser(username, password, org, role, "")
}

// EnsureLedgerUser is EnsureUser for a portal user whose ledger identity
// is ledgerUser of org ("" = the user name). An existing user keeps its
// password; its ledger identity is set to ledgerUser.
func (a *App) EnsureLedgerUser(username, password, org, role, ledgerUser string) error {
	if err := validUsername(username); err != nil {
		return err
	}
	if cur, err := a.users.get(username); err == nil {
		if cur.LedgerUser != ledgerUser {
			cur.LedgerUser, cur.Updated = ledgerUser, a.now().UTC()
			if err := a.users.put(cur); err != nil {
				return fmt.Errorf("store portal user %s: %w", username, err)
			}
		}
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("read portal user %s: %w", username, err)
	}
	if len(password) < MinPasswordLength {
		return fmt.Errorf("password of %s: at least %d characters", username, MinPasswordLength)
	}
	if strings.TrimSpace(org) == "" {
		return fmt.Errorf("user %s: organisation is empty", username)
	}
	if !validRole(role) {
		return fmt.Errorf("user %s: role %q is not one of %s", username, role, strings.Join(roles, ", "))
	}
	h, err := hashPassword(password)
	if err != nil {
		return err
	}
	now := a.now().UTC()
	if err := a.users.put(userRecord{User: User{Username: username, Org: org, Role: role, LedgerUser: ledgerUser, Created: now, Updated: now}, Hash: h}); err != nil {
		return fmt.Errorf("store portal user %s: %w", username, err)
	}
	a.log.Info("portal user created", "user", username, "org", org, "role", role)
	return nil
}

// SetPassword replaces an existing user's password and signs the user out
// everywhere.
func (a *App) SetPassword(username, password string) error {
	u, err := a.users.get(username)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("no portal user %q", username)
	}
	if err != nil {
		return err
	}
	if len(password) < MinPasswordLength {
		return fmt.Errorf("password of %s: at least %d characters", username, MinPasswordLength)
	}
	if u.Hash, err = hashPassword(password); err != nil {
		return err
	}
	u.Updated = a.now().UTC()
	if err := a.users.put(u); err != nil {
		return err
	}
	return a.users.endSessionsOf(u.Username)
}

// LookupUser returns a portal user.
func (a *App) LookupUser(username string) (User, error) {
	u, err := a.users.get(username)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return User{}, fmt.Errorf("no portal user %q", username)
	}
	return u.User, err
}

func validRole(r string) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// authenticate checks a user name and password.
func (a *App) authenticate(username, password string) (User, bool) {
	u, err := a.users.get(username)
	if err != nil {
		_, _ = checkPassword(dummyHash(), password)
		return User{}, false
	}
	ok, err := checkPassword(u.Hash, password)
	if err != nil {
		a.log.Error("stored password hash unreadable", "user", username, "err", err)
		return User{}, false
	}
	return u.User, ok
}

// session is a signed-in portal session. Its ID lives only in the
// browser's cookie; the store keys it by the ID's SHA-256.
type session struct {
	User       string    `json:"user"`
	Org        string    `json:"org"`
	Role       string    `json:"role"`
	LedgerUser string    `json:"ledgerUser,omitempty"`
	CSRF       string    `json:"csrf"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
}

// identity is the ledger identity the session's work is signed as: its
// user's LedgerUser, else its user name, of its organisation.
func (s *session) identity() ledger.Identity {
	u := s.LedgerUser
	if u == "" {
		u = s.User
	}
	return ledger.Identity{Org: s.Org, User: u}
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return []byte(prefixSession + hex.EncodeToString(h[:]))
}

// newSession stores a session and returns its ID.
func (s *userStore) newSession(u User, ttl time.Duration) (string, session, error) {
	id := randomToken()
	now := s.now().UTC()
	ss := session{User: u.Username, Org: u.Org, Role: u.Role, LedgerUser: u.LedgerUser, CSRF: randomToken(), Created: now, Expires: now.Add(ttl)}
	b, err := json.Marshal(ss)
	if err != nil {
		return "", ss, err
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		// Badger drops the entry some time after expiry; the expiry that
		// counts is the one checked in session().
		return txn.SetEntry(badger.NewEntry(sessionKey(id), b).WithTTL(ttl + time.Hour))
	})
	return id, ss, err
}

// session returns a live session by ID.
func (s *userStore) session(id string) (*session, bool) {
	if id == "" || len(id) > 128 {
		return nil, false
	}
	var ss session
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(sessionKey(id))
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error { return json.Unmarshal(b, &ss) })
	})
	if err != nil || !s.now().Before(ss.Expires) {
		return nil, false
	}
	return &ss, true
}

func (s *userStore) endSession(id string) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Delete(sessionKey(id)) })
}

// endSessionsOf deletes every session of a user.
func (s *userStore) endSessionsOf(username string) error {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixSession), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var ss session
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &ss) }); err != nil {
				continue
			}
			if strings.EqualFold(ss.User, username) {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// throttle slows down password guessing: failures are counted per user
// name and per client address; after a few, each further attempt must wait
// an exponentially growing delay (up to 15 minutes). Counts are forgotten
// 15 minutes after the last failure, or on success for the user name.
type throttle struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*attempts
}

type attempts struct {
	failures int
	last     time.Time
	until    time.Time
}

const (
	throttleFree   = 3 // failures allowed before delays start
	throttleWindow = 15 * time.Minute
	throttleMax    = 15 * time.Minute
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, m: map[string]*attempts{}}
}

// wait returns how long the keys must still wait; zero when an attempt may
// go ahead.
func (t *throttle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var w time.Duration
	for _, k := range keys {
		if a, ok := t.m[k]; ok {
			if now.Sub(a.last) > throttleWindow {
				delete(t.m, k)
				continue
			}
			w = max(w, a.until.Sub(now))
		}
	}
	return w
}

// fail records a failed attempt for each key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.m) > 100_000 {
		for k, a := range t.m {
			if now.Sub(a.last) > throttleWindow {
				delete(t.m, k)
			}
		}
	}
	for _, k := range keys {
		a, ok := t.m[k]
		if !ok || now.Sub(a.last) > throttleWindow {
			a = &attempts{}
			t.m[k] = a
		}
		a.failures++
		a.last = now
		if a.failures >= throttleFree {
			d := time.Second << min(a.failures-throttleFree, 12)
			a.until = now.Add(min(d, throttleMax))
		}
	}
}

// succeed forgets a key's failures.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	delete(t.m, key)
	t.mu.Unlock()
}
