#!/usr/bin/env bash
# Installs what building, testing and running the demo need on a Debian machine:
# the system libraries the package links (SQLite, LZ4), nats-server for tests and the demo,
# openssl (test certificates), Debian's NATS C client (benchmark comparison only), headless Chromium
# and a font for the dashboard's browser test (skipped without them), and the Python modules the
# interoperability example uses. Safe to run repeatedly; installs only what is missing.
set -euo pipefail

need_apt=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_apt+=(libsqlite3-dev)
dpkg -s liblz4-dev >/dev/null 2>&1 || need_apt+=(liblz4-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
dpkg -s openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v nats-server >/dev/null 2>&1 || need_apt+=(nats-server)
dpkg -s libnats-dev >/dev/null 2>&1 || need_apt+=(libnats-dev)

if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing Debian packages: ${need_apt[*]} (run as root, or install them)" >&2
        exit 1
    fi
    echo "install-deps: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Optional: the dashboard's browser test skips (saying so) without them, so a failure here is not fatal.
optional_apt=()
command -v chromium >/dev/null 2>&1 || optional_apt+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || optional_apt+=(fonts-dejavu-core)
if [ ${#optional_apt[@]} -gt 0 ] && [ "$(id -u)" -eq 0 ]; then
    echo "install-deps: installing ${optional_apt[*]} (dashboard browser test)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${optional_apt[@]}" >/dev/null; } \
        || echo "install-deps: could not install ${optional_apt[*]}; the dashboard browser test will be skipped" >&2
fi

if command -v python3 >/dev/null 2>&1; then
    if ! python3 -c 'import nats, lz4.frame, cryptography' >/dev/null 2>&1; then
        echo "install-deps: installing Python modules nats-py, lz4, cryptography"
        python3 -m pip install -q nats-py lz4 cryptography || echo "install-deps: pip install failed; Python interop checks will be skipped" >&2
    fi
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: no Swift toolchain on PATH (Swift 6.x is required)" >&2
    exit 1
fi
echo "install-deps: ok"
