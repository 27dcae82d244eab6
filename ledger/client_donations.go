package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// submitArgsInto submits fn with string arguments and decodes the record
// the contract returns.
func submitArgsInto[T any](ctx context.Context, c Client, id Identity, fn string, args ...string) (T, Result, error) {
	var out T
	res, err := c.L.Submit(ctx, id, fn, args...)
	if err != nil {
		return out, res, err
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		return out, res, fmt.Errorf("%s: decode result: %w", fn, err)
	}
	return out, res, nil
}

// orgArg is the optional org filter of the list functions.
func orgArg(org string) []string {
	if org == "" {
		return nil
	}
	return []string{org}
}

// RequestDonation publishes a hospital's donation request. The caller
// must be a hospital-receiver or the admin of a hospital org; Hospital may
// be left empty (the caller's org). It returns the stored request with its
// contract-assigned ID.
func (c Client) RequestDonation(ctx context.Context, id Identity, r DonationRequest) (DonationRequest, Result, error) {
	return submitInto[DonationRequest](ctx, c, id, FnRequestDonation, r)
}

// CloseRequest closes a donation request of the caller's hospital.
func (c Client) CloseRequest(ctx context.Context, id Identity, requestID, note string) (DonationRequest, Result, error) {
	return submitArgsInto[DonationRequest](ctx, c, id, FnCloseRequest, requestID, note)
}

// Request returns a donation request.
func (c Client) Request(ctx context.Context, id Identity, requestID string) (DonationRequest, error) {
	return evaluateInto[DonationRequest](ctx, c, id, FnGetRequest, requestID)
}

// Requests lists donation requests, oldest first: those of hospital, or
// all when hospital is "".
func (c Client) Requests(ctx context.Context, id Identity, hospital string) ([]DonationRequest, error) {
	return evaluateInto[[]DonationRequest](ctx, c, id, FnListRequests, orgArg(hospital)...)
}

// RecordPledge records a donor's pledge. The caller must be a
// charity-officer or the admin of a charity org. It returns the stored
// pledge with its contract-assigned ID.
func (c Client) RecordPledge(ctx context.Context, id Identity, p Pledge) (Pledge, Result, error) {
	return submitInto[Pledge](ctx, c, id, FnRecordPledge, p)
}

// PutDonorIdentity keeps the identity of a pledge's donor (a JSON object)
// in CollectionCharityPrivate, in its own transaction; the identity
// travels as a private argument.
func (c Client) PutDonorIdentity(ctx context.Context, id Identity, pledgeID string, identity json.RawMessage) (Result, error) {
	return c.L.Submit(ctx, id, FnPutDonorIdentity, pledgeID, string(identity))
}

// DonorIdentity reads a pledge's donor identity; only the pledge's charity
// may.
func (c Client) DonorIdentity(ctx context.Context, id Identity, pledgeID string) (DonorIdentity, error) {
	return evaluateInto[DonorIdentity](ctx, c, id, FnGetDonorIdentity, pledgeID)
}

// PurgeDonorIdentity deletes a pledge's donor identity and its history for
// good; the public pledge stays.
func (c Client) PurgeDonorIdentity(ctx context.Context, id Identity, pledgeID string) (Result, error) {
	return c.L.Submit(ctx, id, FnPurgeDonorIdentity, pledgeID)
}

// ConfirmPledgeReceipt records what the charity received of a pledge:
// units of goods, or the amount of money in minor units.
func (c Client) ConfirmPledgeReceipt(ctx context.Context, id Identity, pledgeID string, quantity int64) (Pledge, Result, error) {
	return submitArgsInto[Pledge](ctx, c, id, FnConfirmPledgeReceipt, pledgeID, strconv.FormatInt(quantity, 10))
}

// Pledge returns a pledge.
func (c Client) Pledge(ctx context.Context, id Identity, pledgeID string) (Pledge, error) {
	return evaluateInto[Pledge](ctx, c, id, FnGetPledge, pledgeID)
}

// Pledges lists pledges, oldest first: those of charity, or all when
// charity is "".
func (c Client) Pledges(ctx context.Context, id Identity, charity string) ([]Pledge, error) {
	return evaluateInto[[]Pledge](ctx, c, id, FnListPledges, orgArg(charity)...)
}

// PledgeByReceiptCode finds a pledge by the hex SHA-256 of its receipt
// code and the allocations its units went to.
func (c Client) PledgeByReceiptCode(ctx context.Context, id Identity, codeHash string) (PledgeTrace, error) {
	return evaluateInto[PledgeTrace](ctx, c, id, FnPledgeByReceiptCode, codeHash)
}

// Allocate allocates a charity's stock to a hospital's requests. The
// caller must be a charity-officer or the admin of the charity; Charity
// may be left empty. It returns the stored allocation.
func (c Client) Allocate(ctx context.Context, id Identity, a Allocation) (Allocation, Result, error) {
	return submitInto[Allocation](ctx, c, id, FnAllocate, a)
}

// ShipAllocation records the shipment of an allocation.
func (c Client) ShipAllocation(ctx context.Context, id Identity, allocationID string, s Shipment) (Allocation, Result, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return Allocation{}, Result{}, fmt.Errorf("%s: marshal shipment: %w", FnShipAllocation, err)
	}
	return submitArgsInto[Allocation](ctx, c, id, FnShipAllocation, allocationID, string(raw))
}

// ConfirmAllocationReceipt records what the receiving hospital received of
// a shipped allocation.
func (c Client) ConfirmAllocationReceipt(ctx context.Context, id Identity, allocationID string, received int, note string) (Allocation, Result, error) {
	return submitArgsInto[Allocation](ctx, c, id, FnConfirmAllocationReceipt, allocationID, strconv.Itoa(received), note)
}

// Allocation returns an allocation.
func (c Client) Allocation(ctx context.Context, id Identity, allocationID string) (Allocation, error) {
	return evaluateInto[Allocation](ctx, c, id, FnGetAllocation, allocationID)
}

// Allocations lists allocations, oldest first: those made by or to org,
// or all when org is "".
func (c Client) Allocations(ctx context.Context, id Identity, org string) ([]Allocation, error) {
	return evaluateInto[[]Allocation](ctx, c, id, FnListAllocations, orgArg(org)...)
}

// DonationStock lists a charity's stock, per item.
func (c Client) DonationStock(ctx context.Context, id Identity, charity string) ([]DonationStock, error) {
	return evaluateInto[[]DonationStock](ctx, c, id, FnDonationStock, charity)
}
