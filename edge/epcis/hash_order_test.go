package epcis

import "testing"

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
		if l.position("noSuchMember") != -1 {
			t.Errorf("%s: position of an unknown name", path)
		}
	}
	check(eventOrder, "event")
}
