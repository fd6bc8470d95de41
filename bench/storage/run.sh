#!/usr/bin/env bash
# Storage benchmark: one file (256 MiB by default) up and down through SteadfastStorage's S3
# backend and through the AWS CLI (`aws s3 cp`), against the same moto_server in the same run.
# Prints both throughputs (median of ROUNDS alternating rounds, after one untimed warm-up of
# each), their ratio and the peak RSS (VmHWM) of our process.
#
# Needs: swift, curl, python3 with moto_server and the AWS CLI:
#   pip install 'moto[server]' awscli
# Usage: bench/storage/run.sh           SIZE_MIB=64 ROUNDS=1 bench/storage/run.sh  (quick)
# Our process uses the library's defaults (8 MiB parts, 3 in parallel) unless PART_SIZE or
# PARALLELISM are set, with MALLOC_MMAP_THRESHOLD_=262144 (see ours() below); the AWS CLI
# uses its own defaults (8 MiB parts, 10 in parallel).
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE_MIB=${SIZE_MIB:-256}
ROUNDS=${ROUNDS:-3}
PART_SIZE=${PART_SIZE:-8388608}
PARALLELISM=${PARALLELISM:-3}

echo "building StorageBench (release) ..." >&2
flock /tmp/steadfast-build.lock swift build -c release --product StorageBench >&2
BIN="$(flock /tmp/steadfast-build.lock swift build -c release --show-bin-path)/StorageBench"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$endpoint/moto-api/" > /dev/null && break; sleep 0.2; done

export AWS_ACCESS_KEY_ID=benchmark AWS_SECRET_ACCESS_KEY=benchmark AWS_DEFAULT_REGION=us-east-1
mkdir -p "$work/src" "$work/ours" "$work/cli"
head -c "$((SIZE_MIB * 1048576))" /dev/urandom > "$work/src/file.bin"
aws --endpoint-url "$endpoint" s3 mb s3://bench > /dev/null

ours() {
    # glibc raises its mmap threshold after the first large free and then keeps freed 1 MiB
    # buffers in per-thread arenas; a fixed threshold returns them, so RSS follows live data.
    # (The same setting suits the portal's service unit.)
    MALLOC_MMAP_THRESHOLD_=262144 "$BIN" --endpoint "$endpoint" --bucket bench --file "$work/src/file.bin" --out-dir "$work/ours" \
        --part-size "$PART_SIZE" --parallelism "$PARALLELISM"
    cmp "$work/src/file.bin" "$work/ours/file.bin"
    rm -f "$work/ours/file.bin"
}

cli() {  # prints "cli upload_mibps=... download_mibps=..."
    local t0 t1 t2
    t0=$(date +%s.%N)
    aws --endpoint-url "$endpoint" s3 cp --only-show-errors "$work/src/file.bin" s3://bench/cli/file.bin
    t1=$(date +%s.%N)
    aws --endpoint-url "$endpoint" s3 cp --only-show-errors s3://bench/cli/file.bin "$work/cli/file.bin"
    t2=$(date +%s.%N)
    cmp "$work/src/file.bin" "$work/cli/file.bin"
    rm -f "$work/cli/file.bin"
    aws --endpoint-url "$endpoint" s3 rm --only-show-errors s3://bench/cli/file.bin
    python3 -c "import sys; s, a, b, c = map(float, sys.argv[1:]); print(f'cli upload_mibps={s/(b-a):.1f} download_mibps={s/(c-b):.1f}')" "$SIZE_MIB" "$t0" "$t1" "$t2"
}

echo "warm-up ..." >&2
ours > /dev/null
cli > /dev/null
results="$work/results"
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round/$ROUNDS ..." >&2
    if (( round % 2 )); then ours >> "$results"; cli >> "$results"; else cli >> "$results"; ours >> "$results"; fi
done

python3 - "$SIZE_MIB" "$results" <<'PY'
import statistics, sys
size = float(sys.argv[1])
runs = {"ours": [], "cli": []}
for line in open(sys.argv[2]):
    name, *fields = line.split()
    runs[name].append({k: v for k, v in (f.split("=", 1) for f in fields)})
def median(name, field):
    return statistics.median(float(r[field]) for r in runs[name])
ou, od = median("ours", "upload_mibps"), median("ours", "download_mibps")
cu, cd = median("cli", "upload_mibps"), median("cli", "download_mibps")
peak = max(float(r["peak_rss_mib"]) for r in runs["ours"])
anon = max(float(r["rss_anon_mib"]) for r in runs["ours"])
print(f"file: {size:.0f} MiB through moto_server on 127.0.0.1, median of {len(runs['ours'])} rounds")
print(f"{'':24}{'upload MiB/s':>14}{'download MiB/s':>16}")
print(f"{'SteadfastStorage S3':24}{ou:>14.1f}{od:>16.1f}")
print(f"{'aws s3 cp':24}{cu:>14.1f}{cd:>16.1f}")
print(f"{'ratio (ours / aws cli)':24}{ou / cu:>14.2f}{od / cd:>16.2f}")
print(f"peak RSS of our process (VmHWM): {peak:.1f} MiB (aim: under 64 MiB); "
      f"anonymous memory at exit {anon:.1f} MiB, the rest is mapped Swift/Foundation libraries")
PY
