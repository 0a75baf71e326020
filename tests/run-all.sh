#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does. Installs what the tests need when it
# is missing (a Rust toolchain must already be there).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
  if need apt-get; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "$@"; else sudo apt-get update -qq && sudo apt-get install -y -qq "$@"; fi
  else
    echo "run-all: please install $*" >&2; exit 1
  fi
}
need cc || apt_install gcc
# The MQTT tests start their own Mosquitto (and mosquitto_passwd, openssl for TLS/ACL tests).
{ need mosquitto || [ -x /usr/sbin/mosquitto ]; } || apt_install mosquitto
need mosquitto_passwd || [ -x /usr/bin/mosquitto_passwd ] || apt_install mosquitto
need openssl || apt_install openssl
# shelfd-central's tests start their own PostgreSQL (initdb + pg_ctl on a free loopback port, as
# the `postgres` user when run as root, as Debian's server requires); only the packages are needed.
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need pg_ctl || apt_install postgresql
need runuser || [ "$(id -u)" != 0 ] || apt_install util-linux
# The packaging test runs systemd-analyze verify/security on the unit (no running systemd needed).
need systemd-analyze || apt_install systemd
# The clock-step test (tests/tests/clock_steps.rs) steps a running daemon's clock with libfaketime.
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || apt_install faketime
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy || true

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings (every feature, then the daemon as shipped: no features)"
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy -p shelfd --all-targets -- -D warnings
# `shelfd demo` and `shelfd bench` are default-off features of shelfd; the e2e crate (tests/)
# turns them on, so under --workspace the daemon, its unit tests and the binary the e2e tests
# run all have them.
echo "== cargo test"
cargo test --workspace
echo "== firmware for thumbv7em-none-eabihf (Cortex-M4F)"
rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf
cargo build -p shelf-node --target thumbv7em-none-eabihf --release
cargo build -p shelf-node --target thumbv7em-none-eabihf --release --example node_image
echo "== fuzz targets build"
cargo build --manifest-path fuzz/Cargo.toml --quiet
echo "run-all: all checks and tests passed"
