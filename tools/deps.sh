#!/usr/bin/env bash
# tools/deps.sh [--check] — install every Debian package cairn needs to build and test.
# Idempotent: installs only what is missing (one apt-get update, only when needed).
# --check: exit 1 if something is missing, install nothing.
set -euo pipefail
PKGS=(build-essential pkg-config clang clang-tidy cppcheck clang-format libclang-rt-14-dev
      libev-dev librocksdb-dev libisal-dev libxxhash-dev libibverbs-dev librdmacm-dev
      libfuse3-dev fuse3 libinih-dev libjansson-dev libcmocka-dev libsodium-dev
      libmicrohttpd-dev jq bc procps iproute2 util-linux iperf3 xxd)
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "${1:-}" = --check ]; then echo "missing: ${missing[*]}"; exit 1; fi
echo "deps: installing ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
