"""Schemathesis against the running gateway's own /openapi.json: every documented operation is
called with generated valid and invalid requests, as each role, and every answer must be no 5xx,
a documented status with the documented content type and body schema, valid data accepted and
invalid data rejected, undeclared methods refused with 405, and authentication enforced.

The services run in this process (real broker vhost, a PostgreSQL database each); Schemathesis
runs as its own process, `schemathesis run`: its synchronous client and Hypothesis then share
nothing with the eventlet hub the services run on, and the two use both cores."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.service.conftest import TOKENS
from tests.gateway.support_platform import platform, seed

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[3]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# A bound on the run, not a timing assertion: about a minute is usual on two cores.
RUN_LIMIT_S = 600


def _die_with_parent() -> None:
    # Linux: the run gets SIGTERM if pytest dies, even by SIGKILL.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# Which seeded values (see support_platform.seed) feed which parameters, per operation: half
# the generated requests name something that exists, so drill-downs answer 200 with a body to
# check against its schema, not only 404.
BINDINGS = {
    "scorecard": {"path.code": "units", "query.scheme": "schemes"},
    "rankings": {"query.scheme": "schemes"},
    "dossier": {"path.code": "dossiers"},
    "dossiers": {"query.unit": "units"},
    "alerts": {"query.unit": "units"},
    "ack": {"path.key": "alerts"},
    "reinject": {"path.id": "quarantine"},
}


# Schemathesis' own list of answers that reject invalid data, plus 413 and 414: a body or a URL
# too large is refused before it is read, and is a rejection too.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428",
              "429", "5xx"]


# Warnings that mean the run did not test what it should, so fail it: an operation answered
# only 401/403 (the tokens did not work) or only 404 (the seeded values did not), a documented
# method answered 405, a pattern Schemathesis cannot generate from, a 429 (the rate limit is
# raised for this run), a seeded value the schema does not allow.
FAIL_ON = ["missing_auth", "missing_test_data", "method_not_allowed", "unsupported_regex",
           "rate_limited", "dictionary_mismatch"]


def config_toml(seeded: dict[str, list[Any]]) -> str:
    """A schemathesis.toml with the seeded values as dictionaries (json.dumps writes strings,
    numbers and lists as TOML reads them)."""
    lines = ["[warnings]", f"fail-on = {json.dumps(FAIL_ON)}", "",
             "[checks.negative_data_rejection]", f"expected-statuses = {json.dumps(REJECTIONS)}",
             ""]
    for name, values in {**seeded, "schemes": ["qd766"]}.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    for operation, bindings in BINDINGS.items():
        lines += ["[[operations]]", f"include-operation-id = {json.dumps(operation)}",
                  "[operations.parameters]"]
        lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}'
                  for key, name in bindings.items()]
        lines.append("")
    return "\n".join(lines)


def schemathesis_command(address: str, config: Path) -> list[str]:
    return [
        str(SCHEMATHESIS), "--config-file", str(config), "run", f"http://{address}/openapi.json",
        "--url", f"http://{address}",
        "--checks", "all",
        # No stateful phase: the API has no links between operations to follow.
        "--phases", "examples,coverage,fuzzing",
        # The SSE stream never ends, so a generated call would wait forever for its body; its
        # behaviour (events, heartbeats, resuming, a bad Last-Event-ID) is covered by
        # test_gateway_stream.py.
        "--exclude-operation-id", "stream",
        # The budget (about 35 s of the module's 40 on two busy cores): per operation at most
        # 100 fuzzed cases besides the coverage phase's boundary cases; derandomised, so CI
        # runs the same cases every time; no shrinking, which against a live service can run
        # long. Schemathesis sets Hypothesis' deadline to None itself.
        "--max-examples", "100", "--generation-deterministic", "--no-shrink",
        # The hooks set a role's token on every case; generated credentials would only be 401s.
        "--generation-with-security-parameters", "false",
        # One worker: with two, Hypothesis' lambda introspection (ast.parse) in two threads at
        # once hit CPython 3.11's "AST constructor recursion depth mismatch" SystemError.
        "--request-timeout", "30", "--workers", "1", "--no-color",
    ]


def run_schemathesis(address: str, seeded: dict[str, list[Any]],
                     workdir: Path) -> tuple[int, str]:
    config = workdir / "schemathesis.toml"
    config.write_text(config_toml(seeded), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "SCHEMATHESIS_HOOKS": "tests.gateway.schemathesis_hooks",
           "SCHEMATHESIS_GATEWAY_TOKENS": json.dumps(TOKENS)}
    log = workdir / "schemathesis.log"
    with log.open("wb") as out, warnings.catch_warnings():
        # eventlet warns on every fork (preexec_fn makes one): it is about a child that goes on
        # running eventlet, and this one execs schemathesis at once.
        warnings.filterwarnings("ignore", message="Using fork", category=DeprecationWarning)
        # The working directory is the test's own: reports and caches land there.
        popen = subprocess.Popen(schemathesis_command(address, config), cwd=workdir, env=env,
                                 stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        try:
            code = popen.wait(RUN_LIMIT_S)
        except subprocess.TimeoutExpired:
            code = -1
            out.write(f"\n(stopped: not finished within {RUN_LIMIT_S} s)\n".encode())
        finally:
            if popen.poll() is None:
                popen.terminate()
                try:
                    popen.wait(10)
                except subprocess.TimeoutExpired:
                    popen.kill()
                    popen.wait(10)
    return code, log.read_text(encoding="utf-8", errors="replace")


def test_gateway_answers_as_its_openapi_document_says(vhost: str, pg_url: str,
                                                      tmp_path: Path) -> None:
    # Rate limiting is not under test here, and a run sends a few thousand requests per token.
    with platform(vhost, pg_url, RATE_LIMIT_PER_MINUTE=10**6) as address:
        code, output = run_schemathesis(address, seed(address), tmp_path)
    print(output)  # shown with -s or -rA: what ran, and how long each phase took
    assert code == 0, output
