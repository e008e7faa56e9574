#!/usr/bin/env sh
# Entry point of the `secretgate` hook for the pre-commit framework: builds secretgate from
# the hook repository's own checkout on first use (pre-commit caches that checkout), then runs it.
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="$here/target/release/secretgate"
if [ ! -x "$bin" ]; then
    echo "secretgate: building secretgate (first use only)..." >&2
    cargo build --release --quiet --manifest-path "$here/Cargo.toml" --target-dir "$here/target" --bin secretgate >&2
fi
exec "$bin" "$@"
