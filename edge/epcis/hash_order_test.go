package epcis

import (
	"encoding/json"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// TestPropOrderNamesUnique: no level of the canonical property order names
// a member twice. ordered relies on it: it renders each child for the one
// entry naming it, where the reference goes through the order entry by
// entry (a name listed twice would render its children twice there).
func TestPropOrderNamesUnique(t *testing.T) {
	seen := map[*orderList]bool{}
	var check func(l *orderList, path string)
	check = func(l *orderList, path string) {
		if seen[l] {
			return
		}
		seen[l] = true
		names := map[string]bool{}
		for _, e := range l.entries {
			if e.none {
				continue
			}
			if names[e.name] {
				t.Errorf("%s: %q appears twice", path, e.name)
			}
			names[e.name] = true
			if l.position(e.name) < 0 || l.entries[l.position(e.name)].name != e.name {
				t.Errorf("%s: position(%q) is wrong", path, e.name)
			}
			if e.sub != nil {
				check(e.sub, path+"/"+e.name)
			}
		}
		for _, name := range append(append([]string{"noSuchMember", "", "x", "time ", "Time", "eventtime"}, wildKeys...), wildStrings...) {
			want := -1
			for i, e := range l.entries {
				if !e.none && e.name == name {
					want = i
				}
			}
			if got := l.position(name); got != want {
				t.Errorf("%s: position(%q) = %d, want %d", path, name, got, want)
			}
		}
	}
	check(eventOrder, "event")
}

// TestIsPyReprFloat: whatever isPyReprFloat accepts, Python's repr (and
// the frozen pyNumeric and pyNumberText) print unchanged.
func TestIsPyReprFloat(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	var ins []string
	for _, s := range []string{"4.2", "-61.5", "0.1", "0.0001", "0.00001", "-0.5", "0.5", "100.5", "123456789012345.5", "12345678901234.5",
		"1234567890123.45", "0.123456789012345", "0.1234567890123456", "0.000123456789012345", "9007199254740993.5", "1.0", "0.0", "-0.0", "00.5", ".5", "5."} {
		ins = append(ins, s)
	}
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.Intn(10))
		}
		return string(b)
	}
	for i := 0; i < 200000; i++ {
		var s string
		switch r.Intn(3) {
		case 0:
			s = strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.Intn(24)-8)), 'f', -1, 64)
		case 1:
			s = digits(1+r.Intn(17)) + "." + digits(1+r.Intn(17))
		default:
			s = "0." + strings.Repeat("0", r.Intn(6)) + digits(1+r.Intn(17))
		}
		if r.Intn(2) == 0 {
			s = "-" + s
		}
		ins = append(ins, s)
	}
	accepted := 0
	for _, s := range ins {
		if !isPyReprFloat(s) {
			continue
		}
		accepted++
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || legacy_pyFloatRepr(f) != s || legacy_pyNumeric(s) != s || legacy_pyNumberText(json.Number(s)) != s {
			t.Fatalf("isPyReprFloat(%q), but repr is %q, pyNumeric %q", s, legacy_pyFloatRepr(f), legacy_pyNumeric(s))
		}
	}
	if accepted < 50000 {
		t.Fatalf("only %d accepted", accepted)
	}
}
