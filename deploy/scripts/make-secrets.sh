#!/bin/sh
# Make every secret docker-compose.yml mounts, with random values, under
# deploy/secrets/ (git-ignored; the directory is 0700):
#
#   mosquitto-passwd        Mosquitto password file (hashed): the edge and the demo devices
#   edge-mqtt-password      the edge's MQTT password
#   devices.json            the demo devices' MQTT logins (tracegate sim --credentials)
#   gateway-secrets.yaml    the portal's first admin and the EPCIS capture tokens
#
#   deploy/scripts/make-secrets.sh            # refuses to overwrite existing secrets
#   deploy/scripts/make-secrets.sh --force    # new values for all of them
#
# Needs Docker (the eclipse-mosquitto image hashes the passwords and hands
# each file to the UID that reads it: 1883 for Mosquitto, 10001 for
# tracegate), so afterwards only root can read them on this host. The portal
# admin's password is printed once, at the end.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
S=$root/deploy/secrets
MOSQUITTO_IMAGE=eclipse-mosquitto:${MOSQUITTO_IMAGE_TAG:-2}
TRACEGATE_UID=${TRACEGATE_UID:-10001}
MOSQUITTO_UID=1883
EDGE_USER=edge-wh1
GATEWAY_USER=gateway
# The demo warehouse's devices (deploy/mosquitto/acl): ID and kind.
DEVICES="dock-in-1:rfid dock-out-1:rfid coldroom-1:sensor reefer-1:sensor handheld-1:scanner probe-1:sensor"
SITE=wh1

umask 077
if [ -e "$S/gateway-secrets.yaml" ] && [ "${1:-}" != "--force" ]; then
	echo "deploy/secrets/ already has secrets; --force replaces them all" >&2
	echo "(the portal admin's password is only set on the gateway's first start)" >&2
	exit 1
fi
mkdir -p "$S"
chmod 0700 "$S"
work=$(mktemp -d "$S/.new.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 128 random bits as hex: safe in YAML, JSON and mosquitto_passwd -b.
rand() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

edge_pw=$(rand)
printf '%s' "$edge_pw" >"$work/edge-mqtt-password"
printf '%s %s\n' "$EDGE_USER" "$edge_pw" >"$work/accounts"
gateway_pw=$(rand)
printf '%s %s\n' "$GATEWAY_USER" "$gateway_pw" >>"$work/accounts"

{
	echo "["
	sep=""
	for d in $DEVICES; do
		id=${d%%:*}
		kind=${d#*:}
		pw=$(rand)
		printf '%s %s\n' "$id" "$pw" >>"$work/accounts"
		printf '%s  {"clientID": "%s", "username": "%s", "password": "%s", "topic": "tracegate/%s/%s/%s", "site": "%s", "kind": "%s"}' \
			"$sep" "$id" "$id" "$pw" "$SITE" "$kind" "$id" "$SITE" "$kind"
		sep=",
"
	done
	printf '\n]\n'
} >"$work/devices.json"

admin_pw=$(rand)
cat >"$work/gateway-secrets.yaml" <<EOF
# Made by deploy/scripts/make-secrets.sh; appended to deploy/tracegate/gateway.yaml.
admin:
  user: admin
  password: "$admin_pw"
captureTokens:
  - "$(rand)"
alerts:
  broker: tcp://mosquitto:1883
  clientID: tracegate-gateway-alerts
  username: $GATEWAY_USER
  password: "$gateway_pw"
EOF

# Hash the MQTT passwords, then give each file to its reader. The
# container runs as root only to chown; nothing leaves $work until it is done.
docker run --rm --user 0 --network none --entrypoint /bin/sh -v "$work:/s" "$MOSQUITTO_IMAGE" -ec "
	: >/s/mosquitto-passwd
	while read -r user pass; do mosquitto_passwd -b /s/mosquitto-passwd \"\$user\" \"\$pass\"; done </s/accounts
	rm -f /s/accounts
	chown $MOSQUITTO_UID:$MOSQUITTO_UID /s/mosquitto-passwd
	chmod 0600 /s/mosquitto-passwd
	chown $TRACEGATE_UID:$TRACEGATE_UID /s/edge-mqtt-password /s/devices.json /s/gateway-secrets.yaml
	chmod 0400 /s/edge-mqtt-password /s/devices.json /s/gateway-secrets.yaml
"
for f in mosquitto-passwd edge-mqtt-password devices.json gateway-secrets.yaml; do
	mv -f "$work/$f" "$S/$f"
done

echo "secrets written to $S"
echo "portal admin (first start only): admin / $admin_pw"
