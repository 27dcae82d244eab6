#!/bin/sh
# Package the chaincode-as-a-service definition reproducibly and print its
# package ID (deploy/README.md, "Chaincode package").
#
#   deploy/scripts/package-chaincode.sh            # writes deploy/chaincode/<label>.tar.gz
#
# A ccaas package holds no code: metadata.json ({"type": "ccaas", "label"})
# and code.tar.gz with connection.json, the address the peers dial. The
# package ID is "<label>:<sha256 of the package file>", so the same inputs
# must give the same bytes: fixed order, owner, mode and time in the tar
# archives, no name or time in the gzip headers (GNU tar and gzip).
set -eu
dir=$(cd "$(dirname "$0")/../chaincode" && pwd)
label=$(sed -n 's/.*"label"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$dir/metadata.json")
[ -n "$label" ] || { echo "no label in $dir/metadata.json" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$dir/connection.json" "$dir/metadata.json" "$tmp/"
pack() { # pack DIR FILE... : reproducible tar.gz on stdout
	d=$1
	shift
	tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner \
		--mode=u=rw,go=r --mtime=@0 -C "$d" -cf - "$@" | gzip -9 -n
}
pack "$tmp" connection.json >"$tmp/code.tar.gz"
pack "$tmp" metadata.json code.tar.gz >"$dir/$label.tar.gz"
sum=$(sha256sum "$dir/$label.tar.gz" | cut -d' ' -f1)
echo "$label:$sum"
