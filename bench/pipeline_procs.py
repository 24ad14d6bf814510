"""The four services as separate processes, configured through the environment as in
production, with CPU and peak-RSS accounting and a guaranteed stop."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
from pipeline_infra import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVICES = ("dossiers", "scoring", "notifications", "gateway")


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if the benchmark dies, even by SIGKILL.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Proc:
    name: str  # "dossiers", "dossiers#2", ...
    service: str
    address: str
    popen: subprocess.Popen[bytes]
    log: Path
    final: tuple[float, float] | None = None  # CPU seconds and peak RSS, read before the stop

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def snapshot(self) -> None:
        if self.alive:
            self.final = (self.cpu_seconds(), self.peak_rss_mb())

    def cpu_seconds(self) -> float:
        if self.final is not None and not self.alive:
            return self.final[0]
        try:
            t = psutil.Process(self.popen.pid).cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return float("nan")

    def peak_rss_mb(self) -> float:
        """VmHWM: the kernel's high-water mark of the resident set, exact, since start."""
        if self.final is not None and not self.alive:
            return self.final[1]
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")


class Platform:
    def __init__(self, amqp_url: str, databases: dict[str, str], workdir: Path,
                 env: dict[str, str]) -> None:
        self.amqp_url = amqp_url
        self.databases = databases
        self.workdir = workdir
        self.base_env = env
        self.procs: list[Proc] = []

    def _env(self, service: str, address: str, overrides: dict[str, str]) -> dict[str, str]:
        env = {**os.environ, **self.base_env, "AMQP_URI": self.amqp_url, **overrides}
        env[f"{service.upper()}_DATABASE_URL"] = self.databases[service]
        env[f"{service.upper()}_HTTP_ADDRESS"] = address
        return env

    def _spawn(self, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=_die_with_parent)

    def migrate(self) -> None:
        runs = [(s, self._spawn([str(BIN / "parpulse"), "migrate", s, "--database-url",
                                 self.databases[s]], self.workdir / f"migrate-{s}.log",
                                dict(os.environ))) for s in SERVICES]
        for service, popen in runs:
            if popen.wait(timeout=120) != 0:
                raise RuntimeError(f"migrating {service} failed: see "
                                   f"{self.workdir / f'migrate-{service}.log'}")

    def start(self, service: str, label: str = "", **overrides: str) -> Proc:
        n = 1 + sum(p.service == service for p in self.procs)
        name = (service if n == 1 else f"{service}#{n}") + (f" {label}" if label else "")
        address = f"127.0.0.1:{free_port()}"
        log = self.workdir / f"{service}-{n}.log"
        popen = self._spawn([str(BIN / "parpulse"), "run", service], log,
                            self._env(service, address, overrides))
        proc = Proc(name, service, address, popen, log)
        self.procs.append(proc)
        return proc

    def start_smtp(self) -> int:
        """A local mail sink, so alert e-mails are delivered rather than retried."""
        port = free_port()
        log = self.workdir / "smtp.log"
        popen = self._spawn([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"],
                            log, dict(os.environ))
        self.procs.append(Proc("smtp", "smtp", f"127.0.0.1:{port}", popen, log))
        return port

    def wait_ready(self, procs: list[Proc], timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for proc in procs:
            while True:
                if not proc.alive:
                    raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}); "
                                       f"see {proc.log}")
                try:
                    urllib.request.urlopen(f"http://{proc.address}/readyz", timeout=2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{proc.name} not ready in {timeout:g}s; "
                                           f"see {proc.log}") from None
                    time.sleep(0.3)

    def addresses(self, service: str | None = None) -> list[str]:
        """The HTTP addresses of the running processes of one service, or of every service."""
        return [p.address for p in self.procs if p.alive and p.service in SERVICES
                and (service is None or p.service == service)]

    def of(self, service: str) -> list[Proc]:
        return [p for p in self.procs if p.service == service]

    def stop(self, proc: Proc, grace: float = 15.0) -> None:
        proc.snapshot()
        if proc.alive:
            proc.popen.terminate()
            try:
                proc.popen.wait(grace)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)

    def stop_all(self) -> None:
        for proc in self.procs:
            proc.snapshot()
            if proc.alive:
                proc.popen.terminate()
        deadline = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)
