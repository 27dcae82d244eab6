package contract

import "fmt"

// The key layout of the world state. Keys are simple UTF-8 strings with a
// prefix per record type (never a leading 0x00, which Fabric reserves for
// composite keys). IDs may not contain "/", so a prefix ending in "/"
// selects exactly one parent's children, and prefixEnd bounds its range.
//
//	org/{org}                      ledger.Org
//	user/{org}/{user}              ledger.User
//	device/{device}                ledger.Device
//	product/{gtin}                 ledger.Product
//	lot/{gtin}/{lot}               ledger.Lot (a lot may contain "/": the GTIN is fixed-length)
//	anchor/{edge}/{seq:%020d}      ledger.Anchor (zero-padded: key order is seq order)
//	head/{edge}                    {"seq": N}, the edge's latest anchor
//
// Private data collections hold:
//
//	doc/{key}                      ledger.PrivateRecord
const (
	orgPrefix     = "org/"
	userPrefix    = "user/"
	devicePrefix  = "device/"
	productPrefix = "product/"
	lotPrefix     = "lot/"
	anchorPrefix  = "anchor/"
	headPrefix    = "head/"
	docPrefix     = "doc/"
)

func orgKey(id string) string         { return orgPrefix + id }
func userKey(org, user string) string { return userPrefix + org + "/" + user }
func usersPrefix(org string) string   { return userPrefix + org + "/" }
func deviceKey(id string) string      { return devicePrefix + id }
func productKey(gtin string) string   { return productPrefix + gtin }
func lotKey(gtin, lot string) string  { return lotPrefix + gtin + "/" + lot }
func lotsPrefix(gtin string) string   { return lotPrefix + gtin + "/" }
func anchorKey(edge string, seq uint64) string {
	return fmt.Sprintf("%s%s/%020d", anchorPrefix, edge, seq)
}
func anchorsPrefix(edge string) string { return anchorPrefix + edge + "/" }
func headKey(edge string) string       { return headPrefix + edge }
func docKey(key string) string         { return docPrefix + key }

// prefixEnd returns the exclusive end of the range of keys starting with
// prefix, which ends in "/": the same prefix ending in "0", the next byte.
func prefixEnd(prefix string) string {
	return prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
}
