#!/usr/bin/env bash
# `make demo`: every ParPulse service on SQLite, a local mail sink, and the simulator streaming
# a demo province's traffic through RabbitMQ with a compressed clock. Ctrl-C stops everything.
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
export SCORING_HTTP_ADDRESS=${SCORING_HTTP_ADDRESS:-127.0.0.1:8002}
export NOTIFICATIONS_HTTP_ADDRESS=${NOTIFICATIONS_HTTP_ADDRESS:-127.0.0.1:8003}
export GATEWAY_HTTP_ADDRESS=${GATEWAY_HTTP_ADDRESS:-127.0.0.1:8000}
# Alert emails go to a local sink that prints them to var/log/mail.log.
export SMTP_HOST=127.0.0.1 SMTP_PORT=${DEMO_SMTP_PORT:-8025}
# Fresh API tokens for this run (stored hashed by the gateway, as in production).
VIEWER_TOKEN=$("$BIN/python" -c "import secrets; print(secrets.token_urlsafe(18))")
OPERATOR_TOKEN=$("$BIN/python" -c "import secrets; print(secrets.token_urlsafe(18))")
INTEGRATOR_TOKEN=$("$BIN/python" -c "import secrets; print(secrets.token_urlsafe(18))")
export API_TOKENS
API_TOKENS=$("$BIN/python" - "$VIEWER_TOKEN" "$OPERATOR_TOKEN" "$INTEGRATOR_TOKEN" <<'PY'
import hashlib, json, sys
roles = ("viewer", "operator", "integrator")
print(json.dumps([{"name": f"demo-{r}", "role": r, "sha256": hashlib.sha256(t.encode()).hexdigest()}
                  for r, t in zip(roles, sys.argv[1:])]))
PY
)

SERVICES=(dossiers scoring notifications)
[ -f services/gateway/config.yml ] && SERVICES+=(gateway)

pids=()
# Stopped by Ctrl-C or a plain `kill` (a stop asked for: exit 0), or by a failure (its status).
stop() {
  local status=${1:-$?}
  trap - INT TERM EXIT
  echo
  echo "parpulse demo: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$status"
}
trap 'stop 0' INT TERM
trap stop EXIT

"$BIN/python" -m aiosmtpd -n -d -l "$SMTP_HOST:$SMTP_PORT" > var/log/mail.log 2>&1 &
pids+=($!)

for service in "${SERVICES[@]}"; do
  "$BIN/parpulse" migrate "$service" >/dev/null
  "$BIN/parpulse" run "$service" > "var/log/$service.log" 2>&1 &
  pids+=($!)
done

address_of() { local v="${1^^}_HTTP_ADDRESS"; echo "${!v}"; }
for service in "${SERVICES[@]}"; do
  for _ in $(seq 1 60); do
    curl -sf "http://$(address_of "$service")/readyz" >/dev/null 2>&1 && break
    sleep 1
  done
  curl -sf "http://$(address_of "$service")/readyz" >/dev/null || {
    echo "parpulse demo: $service did not become ready; see var/log/$service.log"; exit 1; }
done

"$BIN/parpulse" simulate --rate "$RATE" --speed "$SPEED" --start "$START" \
  > var/log/simulator.log 2>&1 &
pids+=($!)

echo "ParPulse demo (province: $PROVINCE, clock x$SPEED from $START)"
if [[ " ${SERVICES[*]} " == *" gateway "* ]]; then
  echo "  dashboard          http://$GATEWAY_HTTP_ADDRESS/?token=$VIEWER_TOKEN"
  echo "  API docs           http://$GATEWAY_HTTP_ADDRESS/docs"
  echo "  tokens             viewer $VIEWER_TOKEN"
  echo "                     operator $OPERATOR_TOKEN   integrator $INTEGRATOR_TOKEN"
fi
for service in "${SERVICES[@]}"; do
  printf '  %-18s http://%s/readyz   /metrics\n' "$service" "$(address_of "$service")"
done
cat <<TXT
  logs               var/log/*.log (alert emails: var/log/mail.log)
  databases          var/*.db (SQLite)
Flow so far (Ctrl-C to stop):
TXT
while sleep 5; do
  "$BIN/python" scripts/demo_status.py "$DOSSIERS_HTTP_ADDRESS" "$SCORING_HTTP_ADDRESS" \
    "$NOTIFICATIONS_HTTP_ADDRESS" || true
done
