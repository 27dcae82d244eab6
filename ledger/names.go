package ledger

// Contract function names, shared by the contract's dispatcher and Client.
const (
	FnRegisterOrg     = "RegisterOrg"
	FnRegisterUser    = "RegisterUser"
	FnRegisterDevice  = "RegisterDevice"
	FnRegisterProduct = "RegisterProduct"
	FnRegisterLot     = "RegisterLot"
	FnAnchorBatch     = "AnchorBatch"
	FnPutPrivate      = "PutPrivate"
	FnDeletePrivate   = "DeletePrivate"
	FnPurgePrivate    = "PurgePrivate"

	FnWhoami       = "Whoami"
	FnGetOrg       = "GetOrg"
	FnListOrgs     = "ListOrgs"
	FnGetUser      = "GetUser"
	FnListUsers    = "ListUsers"
	FnGetDevice    = "GetDevice"
	FnListDevices  = "ListDevices"
	FnGetProduct   = "GetProduct"
	FnListProducts = "ListProducts"
	FnGetLot       = "GetLot"
	FnListLots     = "ListLots"
	FnGetAnchor    = "GetAnchor"
	FnLatestAnchor = "LatestAnchor"
	FnListAnchors  = "ListAnchors"
	FnGetPrivate   = "GetPrivate"
)

// Contract event names. Every write emits exactly one; a write that changes
// nothing (an idempotent repeat) emits none.
const (
	EvOrgRegistered     = "OrgRegistered"
	EvOrgUpdated        = "OrgUpdated"
	EvUserRegistered    = "UserRegistered"
	EvUserUpdated       = "UserUpdated"
	EvDeviceRegistered  = "DeviceRegistered"
	EvDeviceUpdated     = "DeviceUpdated"
	EvProductRegistered = "ProductRegistered"
	EvLotRegistered     = "LotRegistered"
	EvBatchAnchored     = "BatchAnchored"
	EvPrivatePut        = "PrivateDataPut"
	EvPrivateDeleted    = "PrivateDataDeleted"
	EvPrivatePurged     = "PrivateDataPurged"
)
