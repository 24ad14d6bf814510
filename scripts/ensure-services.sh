#!/usr/bin/env bash
# Start the local RabbitMQ (and, with --postgres, PostgreSQL) when they are not running.
# Installs RabbitMQ from the system's packages when it is missing and we are root.
set -euo pipefail

want_pg=0
[ "${1:-}" = "--postgres" ] && want_pg=1

say() { printf 'parpulse: %s\n' "$*" >&2; }

rabbit_up() { rabbitmqctl -q status >/dev/null 2>&1; }

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "RabbitMQ is not installed: installing it from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    say "RabbitMQ is not installed. Install it (Debian: sudo apt-get install rabbitmq-server) or set AMQP_URI to a running broker."
    exit 1
  fi
fi

if ! rabbit_up; then
  say "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
fi
if ! timeout 120 rabbitmqctl -q await_startup >/dev/null 2>&1; then
  say "RabbitMQ did not start within 120 s; see /var/log/rabbitmq/"
  exit 1
fi
# The tests create a vhost per test through the management API.
if ! rabbitmq-plugins -q is_enabled rabbitmq_management >/dev/null 2>&1; then
  rabbitmq-plugins -q enable rabbitmq_management >/dev/null
fi
for _ in $(seq 1 60); do
  curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break
  sleep 1
done

if [ "$want_pg" = 1 ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
      say "PostgreSQL is not installed (Debian: apt-get install postgresql); the tests need it"
      exit 1
    fi
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  fi
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -q -h 127.0.0.1 -p 5432 || { say "PostgreSQL is not accepting connections"; exit 1; }
fi
