"""`parpulse simulate`: stream realistic dossier traffic for a province to the broker."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType

from services.common.reference import load_province
from services.integrator import InboundPublisher

from .clock import VN_TZ
from .runner import RunStats, run
from .traffic import TrafficConfig

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--amqp-uri", default=os.environ.get("AMQP_URI", DEFAULT_AMQP_URI),
                        help=f"broker URI (default: $AMQP_URI or {DEFAULT_AMQP_URI})")
    parser.add_argument("--province", default=os.environ.get("PROVINCE", "demo"),
                        help="province reference data to draw units and procedures from "
                             "(default: $PROVINCE or demo)")
    parser.add_argument("--rate", type=float, default=5.0,
                        help="events per second of real time (default: %(default)s)")
    parser.add_argument("--speed", type=float, default=60.0,
                        help="simulated seconds per real second (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop after this many real seconds (default: until Ctrl-C)")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed; the same seed and start replay the same dossiers")
    parser.add_argument("--dvcqg-share", type=float, default=0.30,
                        help="share of dossiers reported in the DVCQG formats (default: 0.30)")
    parser.add_argument("--online-share", type=float, default=TrafficConfig.online_share,
                        help="share filed online during working hours (default: %(default)s)")
    parser.add_argument("--late-share", type=float, default=TrafficConfig.late_share,
                        help="share of dossiers decided after their due date "
                             "(default: %(default)s)")
    parser.add_argument("--start", type=_start_time, default=None,
                        help="simulated start, ISO 8601; without an offset it is Vietnam time "
                             "(default: now)")


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    province = load_province(args.province)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    start = args.start or datetime.now(VN_TZ).replace(microsecond=0)
    config = TrafficConfig(online_share=args.online_share, late_share=args.late_share)
    print(f"simulating province {args.province}: {args.rate:g} events/s, speed x{args.speed:g}, "
          f"from {start.isoformat()}, seed {seed}, DVCQG share {args.dvcqg_share:g}; "
          "Ctrl-C stops", flush=True)
    stop = threading.Event()
    try:
        with _stop_on_signals(stop), InboundPublisher(args.amqp_uri) as publisher:
            stats = run(publisher, province, args.rate, args.speed, args.duration, seed,
                        args.dvcqg_share, stop, start=start, config=config, progress=_progress)
    except ConnectionError as exc:
        print(f"cannot reach the broker at {_redacted(args.amqp_uri)}: {exc}", file=sys.stderr)
        return 2
    print(f"published: {stats.summary()}; {stats.pending_steps} steps were still in the "
          "future", flush=True)
    return 0 if stats.failed == 0 else 1


def _progress(stats: RunStats) -> None:
    print(f"  {stats.sim_now:%Y-%m-%d %H:%M} (simulated): {stats.dossiers} dossiers, "
          f"{stats.events} events, {stats.confirmed} messages confirmed", flush=True)


def _start_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)


def _redacted(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM) stops after the current tick is confirmed; a second one
    interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        print("\nstopping after the current batch is confirmed...", file=sys.stderr, flush=True)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
