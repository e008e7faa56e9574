#!/usr/bin/env bash
# Runs secretgate's whole test suite on a fresh machine: installs what the tests need
# (git), builds the binaries the end-to-end tests drive, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v git >/dev/null 2>&1; then
    echo "test.sh: installing git" >&2
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq git
    else
        echo "test.sh: git is missing and apt-get is not available; install git and retry" >&2
        exit 2
    fi
fi

# The end-to-end tests (tests/) run the built binaries from target/debug.
cargo build --workspace --bins
cargo test --workspace "$@"
