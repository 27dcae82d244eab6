package broker

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	h := testHash()
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Fatalf("hash %q is not the documented PHC form", h)
	}
	ok, err := CheckPassword(h, testPassword)
	if err != nil || !ok {
		t.Fatalf("CheckPassword(right) = %v, %v", ok, err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", testPassword + " ", strings.ToUpper(testPassword)} {
		if ok, err := CheckPassword(h, wrong); err != nil || ok {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
	h2, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("HashPassword(\"\") succeeded")
	}
}

// TestCheckPasswordInterop verifies hashes made by the reference argon2
// implementation (testdata names the source), with parameters other than
// ours, which CheckPassword must read from the hash.
func TestCheckPasswordInterop(t *testing.T) {
	f, err := os.Open("testdata/argon2id-phc.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("bad line %q", line)
		}
		ok, err := CheckPassword(fields[2], fields[1])
		if err != nil || ok != (fields[0] == "match") {
			t.Errorf("CheckPassword(%q, %q) = %v, %v; want %s", fields[2], fields[1], ok, err, fields[0])
		}
		n++
	}
	if n == 0 {
		t.Fatal("no vectors read")
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good := testHash()
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, h := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1,x=3$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=99999,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:10],
		"x$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
	} {
		ok, err := CheckPassword(h, testPassword)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, ErrMalformedHash", h, ok, err)
		}
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add(testHash())
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.time < 1 || p.threads < 1 || p.memory > maxArgonMemoryKiB || len(p.salt) < minArgonSaltLen {
			t.Fatalf("parsePHC accepted out-of-bounds parameters: %+v", p)
		}
	})
}
