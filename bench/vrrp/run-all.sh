#!/usr/bin/env bash
# Every haupd-vs-keepalived benchmark, one after the other (they must not overlap: the machine has
# 2 cores), then the markdown tables for docs/benchmarks.md. Needs root (network namespaces).
# Takes ~47 min: failover ~14, idle ~7, split brain ~9, backup stall ~2, RSS growth ~11 (the long one).
#   bench/vrrp/run-all.sh [LOGDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
logs=${1:-/tmp/haup-bench-logs}
mkdir -p "$logs"
run() {
  local name=$1
  shift
  echo "== $name ($(date -u +%H:%M:%S))"
  node --import tsx "bench/vrrp/$name.ts" "$@" 2>&1 | tee "$logs/$name.log" | tail -n 20
}
run failover --impl both --runs 5
run idle --runs 5
run split-brain --impl both --runs 5
run backup-stall --impl both --runs 5
run rss-growth
node --import tsx bench/vrrp/report.ts
