"""`parpulse`: the one command line for operators.

    parpulse run SERVICE        run a service (reads services/<service>/config.yml + environment)
    parpulse migrate SERVICE    apply the service's database migrations
    parpulse declare            declare exchanges and queues on the broker
    parpulse export --out F     write every dossier's snapshot (JSON lines) from the dossiers DB
    parpulse replay F           rebuild the scoring counters from such an export
    parpulse dlq replay QUEUE   re-publish QUEUE.dlq's messages after a fix
    parpulse simulate ...       stream realistic dossier traffic for a province
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVICE_CLASSES = {
    "dossiers": "services.dossiers.service:DossiersService",
    "gateway": "services.gateway.service:GatewayService",
    "notifications": "services.notifications.service:NotificationsService",
    "scoring": "services.scoring.service:ScoringService",
}


def load_service_config(service: str) -> dict[str, Any]:
    from nameko.cli.utils.config import load_config, setup_yaml_parser

    path = ROOT / "services" / service / "config.yml"
    if not path.exists():
        raise SystemExit(f"parpulse: no configuration for service {service!r} at {path}")
    setup_yaml_parser()
    with path.open() as fh:
        cfg: dict[str, Any] = load_config(fh)
    return cfg


def _sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)


def cmd_run(args: argparse.Namespace) -> int:
    from nameko import config
    from nameko.cli.run import run

    from services.common.logs import setup_logging
    from services.common.migrate import upgrade

    cfg = load_service_config(args.service)
    setup_logging(args.service, str(cfg.get("LOG_LEVEL", "INFO")))
    _sqlite_dir(cfg["DATABASE_URL"])
    if args.migrate:
        upgrade(args.service, cfg["DATABASE_URL"])
    config.setup(cfg)
    run([SERVICE_CLASSES[args.service]])
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.common.migrate import upgrade

    url = args.database_url or load_service_config(args.service)["DATABASE_URL"]
    _sqlite_dir(url)
    upgrade(args.service, url)
    print(f"{args.service}: database at {_safe(url)} is at the latest revision")
    return 0


def cmd_declare(args: argparse.Namespace) -> int:
    from kombu import Connection
    from kombu.common import maybe_declare

    from services.common.topology import base_entities

    with Connection(args.amqp_uri) as conn:
        channel = conn.channel()
        for entity in base_entities():
            maybe_declare(entity, channel)
    print("declared the parpulse exchanges and the unrouted queue")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write every dossier's snapshot (JSON lines) from the dossiers database."""
    from services.common.clock import Clock
    from services.common.db import make_engine, session_factory
    from services.common.dependencies import load_province_context
    from services.dossiers.adapters.uow import DossiersUnitOfWork
    from services.dossiers.handlers import export_snapshots
    from services.dossiers.views import Context

    cfg = load_service_config("dossiers")
    url = args.database_url or cfg["DATABASE_URL"]
    place = load_province_context(str(cfg.get("PROVINCE") or "demo"), cfg.get("DATA_DIR"))
    now = Clock.from_config(cfg.get("CLOCK_START"), cfg.get("CLOCK_SPEED")).now()
    engine = make_engine(url, pool_size=1)
    ctx = Context(place.province, place.calendar, now, int(cfg.get("DUE_SOON_MINUTES", 480)))
    count = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for snap in export_snapshots(DossiersUnitOfWork(session_factory(engine)), ctx):
            out.write(snap.model_dump_json() + "\n")
            count += 1
    engine.dispose()
    print(f"exported {count} dossier snapshots to {args.out}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuild the scoring counters from an export (stop the scoring consumers first)."""
    from services.common.clock import Clock
    from services.common.db import make_engine, session_factory
    from services.common.dependencies import load_province_context
    from services.scoring.adapters.uow import ScoringUnitOfWork
    from services.scoring.context import ScoringContext
    from services.scoring.dependencies import load_schemes_from_config
    from services.scoring.domain.periods import local_date
    from services.scoring.handlers import mark_all_live_dirty
    from services.scoring.replay import replay_export

    cfg = load_service_config("scoring")
    url = args.database_url or cfg["DATABASE_URL"]
    engine = make_engine(url, pool_size=1)
    sessions = session_factory(engine)
    count = replay_export(ScoringUnitOfWork(sessions), args.source)
    # The running service republishes every live ranking on its next pass.
    place = load_province_context(str(cfg.get("PROVINCE") or "demo"), cfg.get("DATA_DIR"))
    today = local_date(Clock.from_config(cfg.get("CLOCK_START"), cfg.get("CLOCK_SPEED")).now())
    ctx = ScoringContext(place.province, load_schemes_from_config(cfg.get("SCHEMES_DIR")), today)
    with ScoringUnitOfWork(sessions) as uow:
        mark_all_live_dirty(uow, ctx)
        uow.commit()
    engine.dispose()
    print(f"replayed {count} dossiers into {_safe(url)}")
    return 0


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    """Send a DLQ's messages back where they came from (after the fix that makes them pass)."""
    from services.common.dlq import replay

    replayed, left = replay(args.amqp_uri, args.queue, args.limit)
    print(f"{args.queue}.dlq: {replayed} replayed, {left} left")
    return 0 if left == 0 or args.limit else 1


def _safe(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parpulse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a service")
    run.add_argument("service", choices=sorted(SERVICE_CLASSES))
    run.add_argument("--migrate", action="store_true", help="apply migrations before starting")
    run.set_defaults(func=cmd_run)

    migrate = sub.add_parser("migrate", help="apply a service's database migrations")
    migrate.add_argument("service", choices=sorted(SERVICE_CLASSES))
    migrate.add_argument("--database-url", help="default: the service's DATABASE_URL")
    migrate.set_defaults(func=cmd_migrate)

    declare = sub.add_parser("declare", help="declare exchanges and queues on the broker")
    declare.add_argument("--amqp-uri", default=os.environ.get(
        "AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    declare.set_defaults(func=cmd_declare)

    export = sub.add_parser("export", help="write every dossier's snapshot as JSON lines")
    export.add_argument("--out", required=True, help="the file to write")
    export.add_argument("--database-url", help="default: the dossiers service's DATABASE_URL")
    export.set_defaults(func=cmd_export)

    replay = sub.add_parser("replay", help="rebuild scoring counters from a dossier export")
    replay.add_argument("source", help="a file written by `parpulse export`")
    replay.add_argument("--database-url", help="default: the scoring service's DATABASE_URL")
    replay.set_defaults(func=cmd_replay)

    dlq = sub.add_parser("dlq", help="dead-letter queues")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_replay = dlq_sub.add_parser("replay", help="re-publish QUEUE.dlq's messages")
    dlq_replay.add_argument("queue", help="the consumer queue, e.g. dossiers.inbound")
    dlq_replay.add_argument("--limit", type=int, help="at most this many messages")
    dlq_replay.add_argument("--amqp-uri", default=os.environ.get(
        "AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    dlq_replay.set_defaults(func=cmd_dlq_replay)

    try:
        from services.simulator import cli as simulator_cli
    except ImportError:  # the simulator is optional in a service-only image
        simulator_cli = None  # type: ignore[assignment]
    if simulator_cli is not None:
        simulate = sub.add_parser("simulate", help="stream realistic dossier traffic")
        simulator_cli.add_arguments(simulate)
        simulate.set_defaults(func=simulator_cli.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        # eventlet must patch the standard library before anything else imports it (the
        # parser below imports the simulator, and with it pika and pydantic).
        import warnings

        warnings.filterwarnings("ignore", message=".*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, LookupError) as exc:
        logging.getLogger("parpulse").debug("command failed", exc_info=True)
        print(f"parpulse: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
