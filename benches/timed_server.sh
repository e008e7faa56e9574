# Sourced by the push benchmarks: `timed_server WORK BIN` makes WORK/server.git, a bare
# repository whose pre-receive hook is `BIN/secretgate pre-receive` with WORK/server.toml,
# and appends "start end exit-code" (seconds) per push to WORK/times.log.
timed_server() {
    local work="$1" bin="$2"
    git init -q --bare -b main "$work/server.git"
    cat > "$work/server.toml" <<TOML
socket = "$work/sg.sock"
audit_log = "$work/audit.jsonl"
TOML
    cat > "$work/server.git/hooks/pre-receive" <<HOOK
#!/bin/bash
start=\$EPOCHREALTIME
"$bin/secretgate" pre-receive --config "$work/server.toml"
rc=\$?
echo "\$start \$EPOCHREALTIME \$rc" >> "$work/times.log"
exit \$rc
HOOK
    chmod +x "$work/server.git/hooks/pre-receive"
}
