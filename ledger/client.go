package ledger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tracegate/tracegate/ledger/batch"
)

// Client calls the contract's functions through any Ledger with typed
// arguments and results. Records travel as JSON strings.
type Client struct {
	L Ledger
}

func (c Client) submitRecord(ctx context.Context, id Identity, fn string, v any) (Result, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Result{}, fmt.Errorf("%s: marshal argument: %w", fn, err)
	}
	return c.L.Submit(ctx, id, fn, string(raw))
}

func evaluateInto[T any](ctx context.Context, c Client, id Identity, fn string, args ...string) (T, error) {
	var out T
	raw, err := c.L.Evaluate(ctx, id, fn, args...)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("%s: decode result: %w", fn, err)
	}
	return out, nil
}

// RegisterOrg registers org, or updates its name, GLN and country. The
// caller must be the admin of org.ID.
func (c Client) RegisterOrg(ctx context.Context, id Identity, org Org) (Result, error) {
	return c.submitRecord(ctx, id, FnRegisterOrg, org)
}

// RegisterUser records a user of user.Org and its role. The caller must be
// that org's admin.
func (c Client) RegisterUser(ctx context.Context, id Identity, user User) (Result, error) {
	return c.submitRecord(ctx, id, FnRegisterUser, user)
}

// RegisterDevice registers an edge or capture device and its public key.
func (c Client) RegisterDevice(ctx context.Context, id Identity, d Device) (Result, error) {
	return c.submitRecord(ctx, id, FnRegisterDevice, d)
}

// RegisterProduct registers a product of the caller's (manufacturer) org.
func (c Client) RegisterProduct(ctx context.Context, id Identity, p Product) (Result, error) {
	return c.submitRecord(ctx, id, FnRegisterProduct, p)
}

// RegisterLot registers a production lot of a product the caller's org owns.
func (c Client) RegisterLot(ctx context.Context, id Identity, l Lot) (Result, error) {
	return c.submitRecord(ctx, id, FnRegisterLot, l)
}

// AnchorBatch anchors a signed batch header. Anchoring the same header again
// returns the existing anchor (with the Result of the new, empty
// transaction).
func (c Client) AnchorBatch(ctx context.Context, id Identity, h batch.Header, sig []byte) (Anchor, Result, error) {
	raw, err := json.Marshal(h)
	if err != nil {
		return Anchor{}, Result{}, fmt.Errorf("%s: marshal header: %w", FnAnchorBatch, err)
	}
	res, err := c.L.Submit(ctx, id, FnAnchorBatch, string(raw), base64.StdEncoding.EncodeToString(sig))
	if err != nil {
		return Anchor{}, res, err
	}
	var a Anchor
	if err := json.Unmarshal(res.Payload, &a); err != nil {
		return Anchor{}, res, fmt.Errorf("%s: decode result: %w", FnAnchorBatch, err)
	}
	return a, res, nil
}

// PutPrivate writes a JSON document under key in a private data collection.
// The key and the value travel as private arguments: the chain records only
// their hashes.
func (c Client) PutPrivate(ctx context.Context, id Identity, collection, key string, value json.RawMessage) (Result, error) {
	return c.L.Submit(ctx, id, FnPutPrivate, collection, key, string(value))
}

// DeletePrivate deletes a private document; its hashes stay on the chain.
func (c Client) DeletePrivate(ctx context.Context, id Identity, collection, key string) (Result, error) {
	return c.L.Submit(ctx, id, FnDeletePrivate, collection, key)
}

// PurgePrivate deletes a private document and its history for good.
func (c Client) PurgePrivate(ctx context.Context, id Identity, collection, key string) (Result, error) {
	return c.L.Submit(ctx, id, FnPurgePrivate, collection, key)
}

// Private reads a private document; only collection members may.
func (c Client) Private(ctx context.Context, id Identity, collection, key string) (PrivateRecord, error) {
	return evaluateInto[PrivateRecord](ctx, c, id, FnGetPrivate, collection, key)
}

// Whoami returns the caller as the contract sees it, with its role.
func (c Client) Whoami(ctx context.Context, id Identity) (Whoami, error) {
	return evaluateInto[Whoami](ctx, c, id, FnWhoami)
}

// Org returns a registered organisation.
func (c Client) Org(ctx context.Context, id Identity, orgID string) (Org, error) {
	return evaluateInto[Org](ctx, c, id, FnGetOrg, orgID)
}

// Orgs lists the registered organisations, sorted by ID.
func (c Client) Orgs(ctx context.Context, id Identity) ([]Org, error) {
	return evaluateInto[[]Org](ctx, c, id, FnListOrgs)
}

// User returns a registered user of org.
func (c Client) User(ctx context.Context, id Identity, org, user string) (User, error) {
	return evaluateInto[User](ctx, c, id, FnGetUser, org, user)
}

// Users lists the registered users of org, sorted by ID.
func (c Client) Users(ctx context.Context, id Identity, org string) ([]User, error) {
	return evaluateInto[[]User](ctx, c, id, FnListUsers, org)
}

// Device returns a registered device.
func (c Client) Device(ctx context.Context, id Identity, deviceID string) (Device, error) {
	return evaluateInto[Device](ctx, c, id, FnGetDevice, deviceID)
}

// Devices lists registered devices sorted by ID, those of org only unless
// org is "".
func (c Client) Devices(ctx context.Context, id Identity, org string) ([]Device, error) {
	if org == "" {
		return evaluateInto[[]Device](ctx, c, id, FnListDevices)
	}
	return evaluateInto[[]Device](ctx, c, id, FnListDevices, org)
}

// Product returns a registered product.
func (c Client) Product(ctx context.Context, id Identity, gtin string) (Product, error) {
	return evaluateInto[Product](ctx, c, id, FnGetProduct, gtin)
}

// Products lists the registered products, sorted by GTIN.
func (c Client) Products(ctx context.Context, id Identity) ([]Product, error) {
	return evaluateInto[[]Product](ctx, c, id, FnListProducts)
}

// Lot returns a registered lot.
func (c Client) Lot(ctx context.Context, id Identity, gtin, lot string) (Lot, error) {
	return evaluateInto[Lot](ctx, c, id, FnGetLot, gtin, lot)
}

// Lots lists the lots of a product, sorted by lot number.
func (c Client) Lots(ctx context.Context, id Identity, gtin string) ([]Lot, error) {
	return evaluateInto[[]Lot](ctx, c, id, FnListLots, gtin)
}

// Anchor returns the anchor of an edge's batch seq.
func (c Client) Anchor(ctx context.Context, id Identity, edge string, seq uint64) (Anchor, error) {
	return evaluateInto[Anchor](ctx, c, id, FnGetAnchor, edge, strconv.FormatUint(seq, 10))
}

// LatestAnchor returns an edge's anchor with the highest seq.
func (c Client) LatestAnchor(ctx context.Context, id Identity, edge string) (Anchor, error) {
	return evaluateInto[Anchor](ctx, c, id, FnLatestAnchor, edge)
}

// Anchors lists up to limit anchors of an edge from seq from on, in seq order.
func (c Client) Anchors(ctx context.Context, id Identity, edge string, from uint64, limit int) ([]Anchor, error) {
	return evaluateInto[[]Anchor](ctx, c, id, FnListAnchors, edge, strconv.FormatUint(from, 10), strconv.Itoa(limit))
}

// submitInto submits a record and decodes the stored record the contract
// returns.
func submitInto[T any](ctx context.Context, c Client, id Identity, fn string, v any) (T, Result, error) {
	var out T
	res, err := c.submitRecord(ctx, id, fn, v)
	if err != nil {
		return out, res, err
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		return out, res, fmt.Errorf("%s: decode result: %w", fn, err)
	}
	return out, res, nil
}

// RegisterSite registers a site (a GLN) of site.Org, or updates it. The
// caller must be an org-admin, operator or quality user of that org.
func (c Client) RegisterSite(ctx context.Context, id Identity, site Site) (Result, error) {
	return c.submitRecord(ctx, id, FnRegisterSite, site)
}

// Site returns a registered site.
func (c Client) Site(ctx context.Context, id Identity, gln string) (Site, error) {
	return evaluateInto[Site](ctx, c, id, FnGetSite, gln)
}

// Sites lists registered sites sorted by GLN, those of org only unless org
// is "".
func (c Client) Sites(ctx context.Context, id Identity, org string) ([]Site, error) {
	return evaluateInto[[]Site](ctx, c, id, FnListSites, org)
}

// RecallLot recalls a lot. The caller must be a regulator-inspector or the
// admin of a regulator org; Org may be left empty (the caller's org), By,
// IssuedAt and TxID are set by the contract. It returns the stored recall.
func (c Client) RecallLot(ctx context.Context, id Identity, r Recall) (Recall, Result, error) {
	return submitInto[Recall](ctx, c, id, FnRecallLot, r)
}

// Recall returns the recall of a lot, NotFound when it is not recalled.
func (c Client) Recall(ctx context.Context, id Identity, gtin, lot string) (Recall, error) {
	return evaluateInto[Recall](ctx, c, id, FnGetRecall, gtin, lot)
}

// Recalls lists every recall, oldest first.
func (c Client) Recalls(ctx context.Context, id Identity) ([]Recall, error) {
	return evaluateInto[[]Recall](ctx, c, id, FnListRecalls)
}

// RecordExcursion records a cold-chain excursion and returns it as stored,
// with the fields the contract sets (ID, CumulativeMin, Breach,
// BreachReason, Org, RecordedBy, RecordedAt, TxID). Recording the same
// excursion again returns the stored record.
func (c Client) RecordExcursion(ctx context.Context, id Identity, x Excursion) (Excursion, Result, error) {
	return submitInto[Excursion](ctx, c, id, FnRecordExcursion, x)
}

// Excursion returns a recorded excursion by ID.
func (c Client) Excursion(ctx context.Context, id Identity, excursionID string) (Excursion, error) {
	return evaluateInto[Excursion](ctx, c, id, FnGetExcursion, excursionID)
}

// Excursions lists the excursions of a lot (gtin, lot), of all lots of a
// product (gtin, ""), or all of them ("", ""), sorted by start, then ID.
func (c Client) Excursions(ctx context.Context, id Identity, gtin, lot string) ([]Excursion, error) {
	return evaluateInto[[]Excursion](ctx, c, id, FnListExcursions, gtin, lot)
}

// SetLotStatus quarantines a lot (status LotQuarantined) or releases it
// (LotOK, with a reason). The caller must be a quality user or the admin of
// the lot's org. It returns the lot as stored.
func (c Client) SetLotStatus(ctx context.Context, id Identity, gtin, lot, status, reason string) (Lot, Result, error) {
	res, err := c.L.Submit(ctx, id, FnSetLotStatus, gtin, lot, status, reason)
	if err != nil {
		return Lot{}, res, err
	}
	var l Lot
	if err := json.Unmarshal(res.Payload, &l); err != nil {
		return Lot{}, res, fmt.Errorf("%s: decode result: %w", FnSetLotStatus, err)
	}
	return l, res, nil
}
