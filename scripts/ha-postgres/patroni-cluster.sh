#!/usr/bin/env bash
# A production-like PostgreSQL cluster on loopback: one etcd and three Patroni-managed
# PostgreSQL servers (synchronous replication, automatic failover), all from Debian packages.
#
#   scripts/ha-postgres/patroni-cluster.sh start    # install if needed, start, wait for a leader
#   scripts/ha-postgres/patroni-cluster.sh status   # patronictl list
#   scripts/ha-postgres/patroni-cluster.sh portal   # run a Steadfast node against the cluster
#   scripts/ha-postgres/patroni-cluster.sh kill-leader   # kill -9 the leader's postgres + patroni
#   scripts/ha-postgres/patroni-cluster.sh stop     # stop everything and delete the data
#
# Ports: etcd 2379/2380; PostgreSQL 5441-5443; Patroni REST API 8011-8013. State lives in
# $STEADFAST_PATRONI_DIR (default /tmp/steadfast-patroni). See docs/ha-postgres.md.
set -euo pipefail

DIR="${STEADFAST_PATRONI_DIR:-/tmp/steadfast-patroni}"
PG_PORTS=(5441 5442 5443)
API_PORTS=(8011 8012 8013)
RUN_AS=postgres
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"

as_pg() {
  if [ "$(id -un)" = "$RUN_AS" ]; then "$@"; else $SUDO runuser -u "$RUN_AS" -- "$@"; fi
}

install() {
  if ! command -v patroni >/dev/null 2>&1 || ! command -v etcd >/dev/null 2>&1; then
    echo "==> installing patroni and etcd-server (Debian packages)"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q patroni etcd-server python3-etcd postgresql
  fi
  # Debian starts a default etcd on install; ours runs on its own, so stop that one.
  $SUDO systemctl stop etcd >/dev/null 2>&1 || $SUDO pkill -x etcd >/dev/null 2>&1 || true
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

write_configs() {
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  local bin; bin="$(pg_bin)"
  for i in 0 1 2; do
    local name="pg$((i + 1))"
    mkdir -p "$DIR/$name"
    cat > "$DIR/$name.yml" <<YAML
scope: steadfast
name: $name
restapi:
  listen: 127.0.0.1:${API_PORTS[$i]}
  connect_address: 127.0.0.1:${API_PORTS[$i]}
etcd3:
  hosts: 127.0.0.1:2379
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 3
    maximum_lag_on_failover: 1048576
    primary_start_timeout: 0
    synchronous_mode: true
    failsafe_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        synchronous_commit: "on"
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        wal_retrieve_retry_interval: 200ms
  initdb:
    - encoding: UTF8
    - locale: C
  pg_hba:
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:${PG_PORTS[$i]}
  connect_address: 127.0.0.1:${PG_PORTS[$i]}
  data_dir: $DIR/$name/data
  bin_dir: $bin
  pgpass: $DIR/$name/pgpass
  authentication:
    superuser:
      username: postgres
      password: steadfast-super
    replication:
      username: replicator
      password: steadfast-replication
  parameters:
    unix_socket_directories: '$DIR/$name'
YAML
  done
  $SUDO chown -R "$RUN_AS" "$DIR"
}

start() {
  install
  write_configs
  echo "==> starting etcd"
  # Only the daemon goes to the background (so $! is its PID), detached from our output.
  as_pg bash -c "cd '$DIR'; nohup etcd --name steadfast-etcd --data-dir '$DIR/etcd' \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster steadfast-etcd=http://127.0.0.1:2380 --enable-v2=true < /dev/null > '$DIR/etcd.log' 2>&1 & echo \$! > '$DIR/etcd.pid'"
  for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:2379/health >/dev/null 2>&1 && break; sleep 0.2; done
  echo "==> starting three Patroni nodes"
  for i in 1 2 3; do
    as_pg bash -c "cd '$DIR'; nohup patroni '$DIR/pg$i.yml' < /dev/null > '$DIR/pg$i.log' 2>&1 & echo \$! > '$DIR/pg$i.pid'"
  done
  echo "==> waiting for a leader and two streaming replicas"
  for _ in $(seq 1 150); do
    if [ "$(leader_count)" = "1" ] && [ "$(replica_count)" = "2" ]; then break; fi
    sleep 0.4
  done
  status
  create_database
  echo
  echo "Portal database URL:"
  echo "  $(portal_url)"
}

leader_count() {
  local n=0
  for port in "${API_PORTS[@]}"; do curl -fsS "http://127.0.0.1:$port/primary" >/dev/null 2>&1 && n=$((n + 1)); done
  echo "$n"
}

replica_count() {
  local n=0
  for port in "${API_PORTS[@]}"; do curl -fsS "http://127.0.0.1:$port/replica" >/dev/null 2>&1 && n=$((n + 1)); done
  echo "$n"
}

leader_port() {
  for i in 0 1 2; do
    if curl -fsS "http://127.0.0.1:${API_PORTS[$i]}/primary" >/dev/null 2>&1; then echo "${PG_PORTS[$i]}"; return; fi
  done
}

create_database() {
  local port; port="$(leader_port)"
  [ -n "$port" ] || { echo "no leader yet" >&2; return 1; }
  PGPASSWORD=steadfast-super psql -h 127.0.0.1 -p "$port" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'steadfast'" | grep -q 1 \
    || PGPASSWORD=steadfast-super psql -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE steadfast" >/dev/null
}

portal_url() {
  echo "postgres://postgres:steadfast-super@127.0.0.1:5441,127.0.0.1:5442,127.0.0.1:5443/steadfast?target_session_attrs=read-write"
}

status() {
  patronictl -c "$DIR/pg1.yml" list 2>/dev/null || true
}

portal() {
  exec swift run steadfast serve --database "$(portal_url)" --node-id patroni-demo "$@"
}

kill_leader() {
  for i in 1 2 3; do
    if curl -fsS "http://127.0.0.1:${API_PORTS[$((i - 1))]}/primary" >/dev/null 2>&1; then
      echo "==> killing leader pg$i (patroni and postgres, kill -9)"
      local pid; pid="$(cat "$DIR/pg$i.pid")"
      pkill -9 -P "$pid" >/dev/null 2>&1 || true
      kill -9 "$pid" >/dev/null 2>&1 || true
      local pm; pm="$(head -1 "$DIR/pg$i/data/postmaster.pid" 2>/dev/null || true)"
      [ -n "$pm" ] && { pkill -9 -P "$pm" >/dev/null 2>&1 || true; kill -9 "$pm" >/dev/null 2>&1 || true; }
      return
    fi
  done
  echo "no leader found" >&2
}

stop() {
  local pids=()
  for f in "$DIR"/pg1.pid "$DIR"/pg2.pid "$DIR"/pg3.pid; do
    [ -f "$f" ] && pids+=("$(cat "$f")")
  done
  # Patroni stops its PostgreSQL on SIGTERM; give it time, then make sure.
  for pid in "${pids[@]}"; do kill "$pid" >/dev/null 2>&1 || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" >/dev/null 2>&1 && alive=1; done
    [ "$alive" = "0" ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" >/dev/null 2>&1 || true; done
  for i in 1 2 3; do
    local pm; pm="$(head -1 "$DIR/pg$i/data/postmaster.pid" 2>/dev/null || true)"
    [ -n "$pm" ] && kill -QUIT "$pm" >/dev/null 2>&1 || true
  done
  [ -f "$DIR/etcd.pid" ] && kill "$(cat "$DIR/etcd.pid")" >/dev/null 2>&1 || true
  sleep 1
  $SUDO rm -rf "$DIR"
  echo "stopped; $DIR removed"
}

case "${1:-}" in
  start) start ;;
  status) status ;;
  portal) shift; portal "$@" ;;
  kill-leader) kill_leader ;;
  url) portal_url ;;
  stop) stop ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
