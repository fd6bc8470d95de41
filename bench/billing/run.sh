#!/usr/bin/env bash
# Billing benchmark: seeds 10,000 clients / 50,000 invoices, starts one real `steadfast serve`
# node (release build) and measures, with 50 concurrent clients each on its own session,
# requests per second and p50/p99 latency of the client-area invoice list
# (GET /clientarea/invoices) and of paying an invoice (POST /api/v1/invoices/{id}/pay,
# test card, fresh Idempotency-Key per request) — on SQLite, then on PostgreSQL.
#
# Needs: swift, and PostgreSQL server binaries (apt-get install postgresql) for the second run.
# Usage: bench/billing/run.sh                    DURATION=5 ENGINES=sqlite bench/billing/run.sh
#        SCENARIOS=invoice-list bench/billing/run.sh   (any of healthz, invoice-list, pay-invoice)
# Builds and measures under /tmp/steadfast-build.lock, so it never competes with a build.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLIENTS=${CLIENTS:-10000}
INVOICES=${INVOICES:-50000}
CONCURRENCY=${CONCURRENCY:-50}
SECONDS_PER_RUN=${DURATION:-10}
ENGINES=${ENGINES:-"sqlite postgres"}
SCENARIOS=${SCENARIOS:-healthz,invoice-list,pay-invoice}
LOCK=/tmp/steadfast-build.lock

echo "building steadfast and BillingBench (release) ..." >&2
flock "$LOCK" swift build -c release --product steadfast >&2
flock "$LOCK" swift build -c release --product BillingBench >&2
BIN_DIR="$(swift build -c release --show-bin-path)"

work=$(mktemp -d)
chmod 755 "$work"
pg_pid=""
cleanup() {
    if [ -n "$pg_pid" ]; then kill -QUIT "$pg_pid" 2>/dev/null || true; wait "$pg_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

start_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$bin/initdb" ] || { echo "PostgreSQL binaries not found (apt-get install postgresql)" >&2; exit 1; }
    local as=()
    if [ "$(id -u)" = "0" ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        chown postgres "$work"
        as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as[@]}" "$bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
    cat >> "$work/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
max_connections = 100
shared_buffers = 128MB
# Statements per request (BillingBench reads pg_stat_statements; BENCH_STATEMENTS=1 lists them).
shared_preload_libraries = 'pg_stat_statements'
CONF
    "${as[@]}" "$bin/postgres" -D "$work/pg" > "$work/pg.log" 2>&1 &
    pg_pid=$!
    for _ in $(seq 1 100); do "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.2; done
    "${as[@]}" "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE bench" >/dev/null
    url="postgres://postgres@127.0.0.1:$port/bench"
}

echo "engine      scenario      (clients=$CLIENTS invoices=$INVOICES concurrency=$CONCURRENCY seconds=$SECONDS_PER_RUN)"
for engine in $ENGINES; do
    case "$engine" in
        sqlite) url="sqlite://$work/bench.sqlite" ;;
        # Not in $(...): a subshell would keep pg_pid to itself and the server would outlive us.
        postgres) start_postgres ;;
        *) echo "unknown engine $engine" >&2; exit 2 ;;
    esac
    flock "$LOCK" "$BIN_DIR/BillingBench" --steadfast "$BIN_DIR/steadfast" --database "$url" --clients "$CLIENTS" \
        --invoices "$INVOICES" --concurrency "$CONCURRENCY" --seconds "$SECONDS_PER_RUN" --label "$engine" --scenarios "$SCENARIOS" \
        | tee -a "$work/results.txt"
done

# The ratio docs/billing.md tracks: node CPU per request on PostgreSQL against SQLite, both
# measured in this run (the aim for the invoice list is at most 1.5x).
awk '
    { for (i = 1; i <= NF; i++) if ($i ~ /^node-cpu\/request=/) { v = $i; sub(/.*=/, "", v); sub(/us$/, "", v); cpu[$1 " " $2] = v; scenarios[$2] = 1 } }
    END { for (s in scenarios) if (cpu["sqlite " s] > 0 && cpu["postgres " s] != "") printf "ratio %s postgres/sqlite node-cpu/request=%.2f\n", s, cpu["postgres " s] / cpu["sqlite " s] }
' "$work/results.txt"
