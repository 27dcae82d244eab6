#!/usr/bin/env bash
# Installs what tracegate's tests need from Debian's packages: Mosquitto and
# its clients (the real broker the end-to-end tests start) and Chromium (the
# browser tests). It fails loudly, never skips, when it cannot install them.
set -euo pipefail

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v mosquitto_passwd >/dev/null 2>&1 || need+=(mosquitto)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "deps: mosquitto, mosquitto-clients and chromium are installed"
  exit 0
fi
# de-duplicate
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
echo "deps: installing ${need[*]} from Debian's packages …"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "deps: FAILED: ${need[*]} missing and this user is not root (run: sudo apt-get install -y ${need[*]})" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts a system mosquitto on port 1883; the tests start their own
# brokers on free ports, and tracegate up uses 1883 itself, so stop it.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true; fi
$SUDO pkill -x mosquitto >/dev/null 2>&1 || true
for c in mosquitto_pub mosquitto_passwd chromium; do
  command -v "$c" >/dev/null 2>&1 || { echo "deps: FAILED: $c still missing after apt-get install" >&2; exit 1; }
done
echo "deps: done"
