#!/usr/bin/env bash
# The pre-receive hook's added time per push, with the daemon warm and with the in-process
# fallback: pushes of 10 commits touching 50 files each, timed inside the hook.
#   benches/push_latency.sh [PUSHES]       (default 60 pushes per mode)
# Prints p50 / p90 / p99 / max in milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
pushes="${1:-60}"
cargo build --release --bins --quiet
bin="$PWD/target/release"
work="$(mktemp -d /tmp/secretgate-push-XXXXXX)"
trap 'kill $(cat "$work/daemon.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.com \
    GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.com

. benches/timed_server.sh
timed_server "$work" "$bin"

git init -q -b main "$work/client"
cd "$work/client"
for f in $(seq 1 200); do
    mkdir -p "src/m$((f % 20))"
    seq 1 200 | sed "s/^/line of module $f: /" > "src/m$((f % 20))/file$f.txt"
done
git add -A && git commit -qm base && git remote add origin "$work/server.git"
git push -q origin main 2>/dev/null

run() {
    local mode="$1"
    : > "$work/times.log"
    for p in $(seq 1 "$pushes"); do
        git checkout -q -b "$mode-$p" main
        for c in $(seq 1 10); do
            for f in $(seq 1 5); do
                n=$(( (p * 50 + c * 5 + f) % 200 + 1 ))
                echo "change $mode $p $c $f" >> "src/m$((n % 20))/file$n.txt"
            done
            git commit -qam "c$c"
        done
        git push -q origin "$mode-$p" 2>/dev/null
        git checkout -q main
    done
    python3 - "$work/times.log" "$mode" <<'PY'
import sys
times = sorted((float(b) - float(a)) * 1000 for a, b, _ in (l.split() for l in open(sys.argv[1])))
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{sys.argv[2]:>8}: {len(times)} pushes  p50 {pick(.5):6.1f} ms  p90 {pick(.9):6.1f} ms  p99 {pick(.99):6.1f} ms  max {times[-1]:6.1f} ms")
PY
}

"$bin/secretgated" --config "$work/server.toml" 2>"$work/daemon.log" & echo $! > "$work/daemon.pid"
while [ ! -S "$work/sg.sock" ]; do sleep 0.05; done
run daemon
kill "$(cat "$work/daemon.pid")"; wait 2>/dev/null || true
run fallback
