#!/bin/sh
# Fabric network administration for docker-compose.yml. Runs in the tools
# container (hyperledger/fabric-tools: cryptogen, configtxgen, osnadmin,
# peer), which mounts deploy/ at /deploy and sits on the "ledger" network:
#
#   docker compose run --rm tools scripts/fabric.sh STEP
#
# Steps, in order (deploy/README.md explains each):
#   crypto            cryptogen: deploy/crypto from fabric/crypto-config.yaml
#   channel-block     configtxgen: channel-artifacts/<channel>.block
#   join-orderers     osnadmin channel join on orderer1..3 (admin API)
#   join-peers        peer channel join on every peer, as its org's admin
#   deploy-chaincode  install chaincode/tracegate_1.0.tar.gz on every peer,
#                     approve for every peer org, commit
#   status            channels of every orderer and peer, committed chaincode
#
# Every step can be repeated: it skips (or reports) what is already done.
set -eu

D=$(cd "$(dirname "$0")/.." && pwd)     # deploy/ (/deploy in the container)
CHANNEL=${CHANNEL:-tracegate}
CC_NAME=${CC_NAME:-tracegate}
CC_VERSION=${CC_VERSION:-1.0}
CC_SEQUENCE=${CC_SEQUENCE:-1}
CC_PACKAGE=${CC_PACKAGE:-$D/chaincode/${CC_NAME}_${CC_VERSION}.tar.gz}
# Two of the three peer organisations endorse every transaction.
CC_POLICY=${CC_POLICY:-"OutOf(2,'MeridianMSP.peer','NorthWarehouseMSP.peer','HelpingHandsMSP.peer')"}
# The user the tracegate containers run as (Dockerfile).
TRACEGATE_UID=${TRACEGATE_UID:-10001}
# Ports on the compose network (docker-compose.yml).
ORDERER_PORT=${ORDERER_PORT:-7050}
ORDERER_ADMIN_PORT=${ORDERER_ADMIN_PORT:-7053}
PEER_PORT=${PEER_PORT:-7051}

C=$D/crypto
BLOCK=$D/channel-artifacts/$CHANNEL.block
ORDERER_DOMAIN=tracegate.example
ORDERERS="orderer1 orderer2 orderer3"
ORDERER_CA=$C/ordererOrganizations/$ORDERER_DOMAIN/msp/tlscacerts/tlsca.$ORDERER_DOMAIN-cert.pem
ORDERER_ADMIN=$C/ordererOrganizations/$ORDERER_DOMAIN/users/Admin@$ORDERER_DOMAIN/tls
# MSP ID and cryptogen domain label of every organisation with a peer.
PEER_ORGS="MeridianMSP:meridian NorthWarehouseMSP:northwarehouse HelpingHandsMSP:helpinghands"

say() { printf '\n== %s\n' "$*"; }

# as_org MSPID LABEL: point the peer CLI at that org's peer, as its admin.
as_org() {
	domain=$2.$ORDERER_DOMAIN
	export CORE_PEER_LOCALMSPID="$1"
	export CORE_PEER_MSPCONFIGPATH="$C/peerOrganizations/$domain/users/Admin@$domain/msp"
	export CORE_PEER_TLS_ENABLED=true
	export CORE_PEER_TLS_ROOTCERT_FILE="$C/peerOrganizations/$domain/msp/tlscacerts/tlsca.$domain-cert.pem"
	export CORE_PEER_ADDRESS="peer0.$domain:$PEER_PORT"
}

orderer_flags() { echo "-o orderer1.$ORDERER_DOMAIN:$ORDERER_PORT --tls --cafile $ORDERER_CA"; }

crypto() {
	if [ -d "$C" ]; then
		echo "$C exists: keeping it (a new one would not match the running network;"
		echo "to start over remove it, channel-artifacts/ and the compose volumes)."
	else
		say "cryptogen generate"
		cryptogen generate --config="$D/fabric/crypto-config.yaml" --output="$C"
	fi
	# cryptogen writes private keys 0600 for its own user (root here); the
	# gateway runs as $TRACEGATE_UID and signs with the org admins' keys.
	say "admin keys readable by UID $TRACEGATE_UID (the gateway)"
	for k in "$C"/peerOrganizations/*/users/Admin@*/msp/keystore; do
		chown -R "$TRACEGATE_UID:$TRACEGATE_UID" "$k"
		echo "  $k"
	done
}

channel_block() {
	if [ -f "$BLOCK" ]; then
		echo "$BLOCK exists: keeping it (the orderers may have joined with it)."
		return
	fi
	say "configtxgen -profile TracegateChannel -channelID $CHANNEL"
	mkdir -p "$(dirname "$BLOCK")"
	configtxgen -configPath "$D/fabric" -profile TracegateChannel -channelID "$CHANNEL" -outputBlock "$BLOCK"
}

osnadmin_to() { # osnadmin_to ORDERER ARGS...
	o=$1
	shift
	osnadmin "$@" -o "$o.$ORDERER_DOMAIN:$ORDERER_ADMIN_PORT" --ca-file "$ORDERER_CA" \
		--client-cert "$ORDERER_ADMIN/client.crt" --client-key "$ORDERER_ADMIN/client.key"
}

join_orderers() {
	for o in $ORDERERS; do
		say "$o: osnadmin channel join $CHANNEL"
		# osnadmin exits 0 whatever the HTTP status: read the status line.
		if osnadmin_to "$o" channel list --channelID "$CHANNEL" 2>/dev/null | grep -q '^Status: 200'; then
			echo "already a member"
			continue
		fi
		out=$(osnadmin_to "$o" channel join --channelID "$CHANNEL" --config-block "$BLOCK")
		echo "$out"
		echo "$out" | grep -q '^Status: 201' || { echo "$o did not join $CHANNEL" >&2; exit 1; }
	done
}

join_peers() {
	for org in $PEER_ORGS; do
		as_org "${org%%:*}" "${org#*:}"
		say "$CORE_PEER_ADDRESS: peer channel join $CHANNEL"
		if peer channel list 2>/dev/null | grep -qx "$CHANNEL"; then
			echo "already joined"
		else
			peer channel join -b "$BLOCK"
		fi
	done
}

deploy_chaincode() {
	[ -f "$CC_PACKAGE" ] || { echo "no chaincode package $CC_PACKAGE (scripts/package-chaincode.sh makes it)" >&2; exit 1; }
	pkgid=$(peer lifecycle chaincode calculatepackageid "$CC_PACKAGE")
	say "package $CC_PACKAGE: $pkgid"
	first=${PEER_ORGS%% *}
	as_org "${first%%:*}" "${first#*:}"
	committed=false
	if peer lifecycle chaincode querycommitted --channelID "$CHANNEL" --name "$CC_NAME" 2>/dev/null |
		grep -q "Sequence: $CC_SEQUENCE,"; then
		committed=true
	fi
	peer_args=""
	for org in $PEER_ORGS; do
		as_org "${org%%:*}" "${org#*:}"
		peer_args="$peer_args --peerAddresses $CORE_PEER_ADDRESS --tlsRootCertFiles $CORE_PEER_TLS_ROOTCERT_FILE"
		say "$CORE_PEER_ADDRESS: install"
		if peer lifecycle chaincode queryinstalled 2>/dev/null | grep -q "Package ID: $pkgid,"; then
			echo "already installed"
		else
			peer lifecycle chaincode install "$CC_PACKAGE"
		fi
		$committed && continue
		say "${org%%:*}: approve $CC_NAME $CC_VERSION sequence $CC_SEQUENCE"
		# shellcheck disable=SC2046
		peer lifecycle chaincode approveformyorg $(orderer_flags) --channelID "$CHANNEL" \
			--name "$CC_NAME" --version "$CC_VERSION" --sequence "$CC_SEQUENCE" --package-id "$pkgid" \
			--signature-policy "$CC_POLICY" --collections-config "$D/fabric/collections.json"
	done
	if $committed; then
		say "$CC_NAME is already committed at sequence $CC_SEQUENCE"
	else
		say "check commit readiness"
		peer lifecycle chaincode checkcommitreadiness --channelID "$CHANNEL" --name "$CC_NAME" \
			--version "$CC_VERSION" --sequence "$CC_SEQUENCE" \
			--signature-policy "$CC_POLICY" --collections-config "$D/fabric/collections.json"
		say "commit"
		# shellcheck disable=SC2046,SC2086
		peer lifecycle chaincode commit $(orderer_flags) --channelID "$CHANNEL" \
			--name "$CC_NAME" --version "$CC_VERSION" --sequence "$CC_SEQUENCE" \
			--signature-policy "$CC_POLICY" --collections-config "$D/fabric/collections.json" $peer_args
	fi
	peer lifecycle chaincode querycommitted --channelID "$CHANNEL" --name "$CC_NAME"
	echo
	echo "The chaincode service must run with CHAINCODE_ID=$pkgid"
	echo "(docker-compose.yml's default; else set TRACEGATE_CHAINCODE_ID in .env)."
}

status() {
	for o in $ORDERERS; do
		say "$o"
		osnadmin_to "$o" channel list || true
	done
	for org in $PEER_ORGS; do
		as_org "${org%%:*}" "${org#*:}"
		say "$CORE_PEER_ADDRESS"
		peer channel getinfo -c "$CHANNEL" || true
	done
	say "chaincode $CC_NAME on $CHANNEL"
	peer lifecycle chaincode querycommitted --channelID "$CHANNEL" --name "$CC_NAME" || true
}

case "${1:-}" in
crypto) crypto ;;
channel-block) channel_block ;;
join-orderers) join_orderers ;;
join-peers) join_peers ;;
deploy-chaincode) deploy_chaincode ;;
status) status ;;
*)
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
