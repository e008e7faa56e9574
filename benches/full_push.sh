#!/usr/bin/env bash
# A whole imported history pushed as one new branch to a server with the pre-receive hook
# and a warm daemon: how long the hook takes, and the daemon's own scan time.
#   benches/full_push.sh REPO [BRANCH]      (REPO: a clone, bare or not, e.g. curl/curl)
# The daemon runs with the default budget (4800 ms); BUDGET_MS=60000 shows the time a push
# takes past it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(cd "$1" && pwd)"
branch="${2:-HEAD}"
cargo build --release --bins --quiet
bin="$PWD/target/release"
work="$(mktemp -d /tmp/secretgate-fullpush-XXXXXX)"
trap 'kill $(cat "$work/daemon.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"

. benches/timed_server.sh
timed_server "$work" "$bin"
if [ -n "${BUDGET_MS:-}" ]; then printf '[budget]\ntimeout_ms = %s\n' "$BUDGET_MS" >> "$work/server.toml"; fi
"$bin/secretgated" --config "$work/server.toml" 2>"$work/daemon.log" &
echo $! > "$work/daemon.pid"
while [ ! -S "$work/sg.sock" ]; do sleep 0.05; done

git -C "$repo" push -q "$work/server.git" "$branch:refs/heads/imported" 2>"$work/push.err" || true
read -r start end rc < "$work/times.log"
python3 - "$start" "$end" "$rc" "$work/audit.jsonl" <<'PY'
import json, sys
start, end, rc, audit = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
record = json.loads(open(audit).read().splitlines()[-1])
print(f"hook {1000 * (end - start):.0f} ms (exit {rc}); daemon: {record['duration_ms']} ms, "
      f"{record['commits']} commits, {record['blobs']} blobs, {record['bytes'] / 1e9:.2f} GB, "
      f"verdict {record['verdict']}, {record['reason']}, {record['findings']} findings")
PY
