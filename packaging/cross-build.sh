#!/usr/bin/env bash
# Builds static release binaries of shelfd for store gateways:
#   packaging/cross-build.sh            # both: aarch64 and armv7
#   packaging/cross-build.sh aarch64    # 64-bit ARM (Raspberry Pi 4/5 64-bit OS, i.MX8, …)
#   packaging/cross-build.sh armv7      # 32-bit ARM hard-float (Raspberry Pi OS 32-bit, i.MX6, …)
# Output: target/<triple>/dist/shelfd (stripped), and its size.
#
# aarch64 links against musl (fully static). armv7 links glibc statically
# (armv7-unknown-linux-gnueabihf + crt-static), because the armv7 musl standard library is not
# available from every Rust mirror; such a binary resolves host names through glibc's NSS at run
# time, which works on glibc-based gateways (Debian, Raspberry Pi OS, Yocto with glibc). Broker
# URLs given as IP addresses need no resolver at all.
#
# Installs what is missing: the Rust targets (rustup) and the cross C compilers (apt), which
# `ring` (TLS) needs to build its assembly and C parts.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt() {
  command -v "$1" >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq "$2"; else sudo apt-get install -y -qq "$2"; fi
}

build() {
  local triple=$1 cc=$2 pkg=$3 rustflags=$4
  rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
  need_apt "$cc" "$pkg"
  local var
  var=$(echo "$triple" | tr 'a-z-' 'A-Z_')
  env "CARGO_TARGET_${var}_LINKER=$cc" "CC_${triple//-/_}=$cc" \
      "CARGO_TARGET_${var}_RUSTFLAGS=$rustflags" \
      cargo build --locked --profile dist --target "$triple" -p shelfd --bin shelfd
  local bin="target/$triple/dist/shelfd"
  echo "$triple: $bin $(stat -c %s "$bin") bytes"
  file "$bin" 2>/dev/null || true
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(aarch64 armv7)
for t in "${targets[@]}"; do
  case "$t" in
    aarch64) build aarch64-unknown-linux-musl aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu "-C target-feature=+crt-static" ;;
    armv7) build armv7-unknown-linux-gnueabihf arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf "-C target-feature=+crt-static" ;;
    *) echo "cross-build: unknown target $t (aarch64 or armv7)" >&2; exit 2 ;;
  esac
done
