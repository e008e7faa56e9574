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

# One end-to-end test runs the real pre-commit framework (from PyPI): a virtualenv under
# target/ keeps it out of the system Python; Debian's own package is the fallback.
if ! command -v pre-commit >/dev/null 2>&1; then
    venv="$PWD/target/pytools"
    if [ ! -x "$venv/bin/pre-commit" ]; then
        echo "test.sh: installing the pre-commit package into $venv" >&2
        if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q pre-commit; }; then
            SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
            $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv pre-commit
        fi
    fi
    [ -x "$venv/bin/pre-commit" ] && export PATH="$venv/bin:$PATH"
fi

# The end-to-end tests (tests/) run the built binaries from target/debug.
cargo build --workspace --bins
cargo test --workspace "$@"
