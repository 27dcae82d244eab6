package ledger

// Contract function names of donations.
const (
	FnRequestDonation          = "RequestDonation"
	FnCloseRequest             = "CloseRequest"
	FnRecordPledge             = "RecordPledge"
	FnPutDonorIdentity         = "PutDonorIdentity"
	FnPurgeDonorIdentity       = "PurgeDonorIdentity"
	FnConfirmPledgeReceipt     = "ConfirmPledgeReceipt"
	FnAllocate                 = "Allocate"
	FnShipAllocation           = "ShipAllocation"
	FnConfirmAllocationReceipt = "ConfirmAllocationReceipt"

	FnGetRequest          = "GetRequest"
	FnListRequests        = "ListRequests"
	FnGetPledge           = "GetPledge"
	FnListPledges         = "ListPledges"
	FnPledgeByReceiptCode = "GetPledgeByReceiptCode"
	FnGetDonorIdentity    = "GetDonorIdentity"
	FnGetAllocation       = "GetAllocation"
	FnListAllocations     = "ListAllocations"
	FnDonationStock       = "ListDonationStock"
)

// Contract event names of donations.
const (
	EvDonationRequested   = "DonationRequested"
	EvRequestClosed       = "RequestClosed"
	EvPledgeRecorded      = "PledgeRecorded"
	EvPledgeReceived      = "PledgeReceived"
	EvDonorIdentityPut    = "DonorIdentityPut"
	EvDonorIdentityPurged = "DonorIdentityPurged"
	EvDonationAllocated   = "DonationAllocated"
	EvDonationShipped     = "DonationShipped"
	EvDonationReceived    = "DonationReceived"
)
