#!/usr/bin/env bash
# `make demo`: the dossiers service on SQLite and the simulator streaming a demo province's
# traffic through RabbitMQ, with a compressed clock. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
mkdir -p var/log

export AMQP_URI=${AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/}
export PROVINCE=${PROVINCE:-demo}
SPEED=${DEMO_SPEED:-60}
RATE=${DEMO_RATE:-5}
# A weekday morning, so the demo opens on a busy one-stop shop.
START=${DEMO_START:-$(date -d "last monday" +%Y-%m-%d)T07:30:00+07:00}
# The services and the simulator share one compressed clock: one simulated minute per second.
export CLOCK_START=$START CLOCK_SPEED=$SPEED
export SWEEP_INTERVAL=${SWEEP_INTERVAL:-5}
export DOSSIERS_HTTP_ADDRESS=${DOSSIERS_HTTP_ADDRESS:-127.0.0.1:8001}

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "parpulse demo: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$BIN/parpulse" migrate dossiers >/dev/null
"$BIN/parpulse" run dossiers > var/log/dossiers.log 2>&1 &
pids+=($!)

for _ in $(seq 1 60); do
  curl -sf "http://$DOSSIERS_HTTP_ADDRESS/readyz" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "http://$DOSSIERS_HTTP_ADDRESS/readyz" >/dev/null || {
  echo "parpulse demo: the dossiers service did not become ready; see var/log/dossiers.log"; exit 1; }

"$BIN/parpulse" simulate --rate "$RATE" --speed "$SPEED" --start "$START" \
  > var/log/simulator.log 2>&1 &
pids+=($!)

cat <<TXT
ParPulse demo (province: $PROVINCE, clock x$SPEED from $START)
  dossiers service   http://$DOSSIERS_HTTP_ADDRESS/readyz   /metrics
  logs               var/log/dossiers.log  var/log/simulator.log
  database           var/dossiers.db (SQLite)
Dossiers processed so far (Ctrl-C to stop):
TXT
while sleep 5; do
  "$BIN/python" - "$DOSSIERS_HTTP_ADDRESS" <<'PY' || true
import sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=5).read().decode()
counts = {}
for family in text_string_to_metric_families(text):
    for s in family.samples:
        if s.name == "parpulse_messages_consumed_total":
            counts[s.labels["outcome"]] = counts.get(s.labels["outcome"], 0) + int(s.value)
        if s.name == "parpulse_outbox_published_total":
            counts["events published"] = int(s.value)
print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) if counts else "  waiting")
PY
done
