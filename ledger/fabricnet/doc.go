// Package fabricnet runs a local Hyperledger Fabric consortium network for
// development and tests, natively (no containers): it finds or builds the
// Fabric binaries, renders every configuration file from Go templates,
// generates the crypto material, starts the orderers and peers as child
// processes, creates the channel through the channel participation API,
// deploys the tracegate chaincode as a service and writes the connection
// configuration (ledger/fabric.Config) the gateway uses.
//
// One network lives in one directory:
//
//	network.json                 topology, ports and chaincode package ID (written once the chaincode is committed)
//	crypto/                      cryptogen output: one MSP per consortium member plus the orderer org
//	config/                      crypto-config.yaml, configtx.yaml, collections.json, <node>/core.yaml|orderer.yaml
//	builder/bin/                 the external builder (detect, build, release) for chaincode as a service
//	channel-artifacts/           the channel's genesis block
//	cc/                          the chaincode package and its package ID
//	data/<node>/                 ledgers
//	logs/<node>.log, pids/<node>.pid
//	gateway-fabric.yaml          the gateway's ledger configuration
//
// # Policies
//
// Every consortium member is its own MSP in the channel, but only some run a
// peer (default: the manufacturer, the warehouse and the charity), and
// only a peer can endorse. So:
//
//   - The chaincode's endorsement policy is an explicit signature policy
//     over the peer orgs: a majority of them, OutOf(2,'A.peer','B.peer',
//     'C.peer') for three. An ImplicitMeta "MAJORITY Endorsement" would
//     count all six members' Endorsement policies (4 of 6) and could never
//     be met.
//   - For the same reason the channel's LifecycleEndorsement and
//     Endorsement policies are that same signature policy: a chaincode
//     definition is committed once a majority of the peer orgs approved it
//     (each peer endorses the commit only if its own org approved), and
//     every peer org approves. The members without a peer cannot approve;
//     they still govern the channel: Admins is MAJORITY of all members'
//     admins.
//   - Each private data collection has memberOnlyRead and memberOnlyWrite
//     and its own endorsement policy: a majority of its members that run a
//     peer (both peers for ManufacturerWarehouse, the charity's for
//     CharityPrivate), so a private write is endorsed by member peers only,
//     the ones the gateway sends transient data to. A member without a peer
//     reads and writes through another peer, but at least one member must
//     run a peer to store the data.
//
// # Readiness
//
// WaitReady reads the nodes' Prometheus metrics (Raft leadership, gossip
// membership) and asks each peer's discovery service, as the gateway on
// that peer does, for endorsers that satisfy the chaincode's policy; the
// first submit after Up does not need retries.
//
// Up creates a network, or restarts the one the directory holds from its
// data (no channel join, no chaincode install again); Down stops every
// process by its pid file and, with Purge, removes the state; Status
// reports processes, ports and channel heights. Processes run in their own
// process group and session, so they outlive the command that started them
// (`tracegate fabric up` returns while the network keeps running) but never
// a Down.
package fabricnet
