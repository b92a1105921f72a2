"""``admit bench gates``: online scans through HTTP, and offline verification on one core.

Online: a fresh database with the demo venue and ``--tickets`` paid tickets for today; gunicorn
serves Admit; ``--scanners`` client threads each hold a keep-alive connection and scan distinct
tickets at one lane (``POST /api/v1/gates/{lane}/scans``) until every ticket was scanned once,
then scan a sample a second time (all must be refused). Prints scans/s, p50/p99 latency,
errors, and the double admissions (must be 0).

Offline: the lane's offline bundle and the same codes, judged by ``OfflineLane.scan`` in one
thread: signature, revocation list, rules, decision — what gate software does per scan.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bench import (
    admit_cmd,
    bench_env,
    free_port,
    fresh_postgres,
    percentile_ms,
    start_server,
)


@dataclass
class GateResult:
    database: str
    scanners: int
    tickets: int
    allowed: int = 0
    denied: int = 0
    errors: int = 0
    second_allowed: int = 0
    second_scans: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        return percentile_ms(self.latencies, q)

    def lines(self) -> list[str]:
        scans = len(self.latencies)
        return [
            f"database: {self.database}",
            f"scanners: {self.scanners}, tickets: {self.tickets}",
            f"online scans/s: {scans / self.elapsed:.0f}  ({scans} scans in {self.elapsed:.1f} s)",
            f"latency p50 / p99: {self.pct(0.5):.1f} / {self.pct(0.99):.1f} ms",
            f"allowed: {self.allowed}, denied: {self.denied}, errors: {self.errors}",
            f"second scans allowed (double admissions, must be 0): {self.second_allowed} "
            f"of {self.second_scans}",
        ]


def drive(port: int, token: str, lane: str, codes: list[str], result: GateResult) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/api/v1/gates/{lane}/scans"
    lock = threading.Lock()
    start = threading.Barrier(result.scanners)
    queue = list(codes)
    sample = codes[:: max(1, len(codes) // 200)]

    def scanner(second: bool) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        if not second:
            start.wait()
        while True:
            with lock:
                if not queue:
                    break
                code = queue.pop()
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=json.dumps({"code": code}), headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    result.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            took = time.perf_counter() - t0
            with lock:
                if response.status != 200:
                    result.errors += 1
                    continue
                allowed = json.loads(data)["result"] == "allow"
                if second:
                    result.second_scans += 1
                    result.second_allowed += allowed
                else:
                    result.latencies.append(took)
                    result.allowed += allowed
                    result.denied += not allowed
        conn.close()

    threads = [threading.Thread(target=scanner, args=(False,)) for _ in range(result.scanners)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = time.perf_counter() - t0
    queue.extend(sample)
    scanner(True)


def run_gates(
    *, database: str, scanners: int, tickets: int, workers: int, threads: int, say: Any = print
) -> tuple[GateResult, Path | None]:
    with tempfile.TemporaryDirectory(prefix="admit-bench-gates-") as tmp:
        if database == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            label = "SQLite (WAL, immediate transactions)"
        else:
            url = fresh_postgres(database)
            label = "PostgreSQL"
        env = bench_env(url, tmp)
        say(f"{label}: preparing a fresh database and selling {tickets} tickets …")
        subprocess.run([*admit_cmd(), "migrate", "--verbosity", "0"], env=env, check=True)
        out = subprocess.run(
            [*admit_cmd(), "bench-gates-prepare", "--tickets", str(tickets), "--out", tmp],
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        setup = json.loads(out.stdout.strip().splitlines()[-1])
        codes = json.loads((Path(tmp) / "codes.json").read_text())
        bundle = json.loads((Path(tmp) / "bundle.json").read_text())
        port = free_port()
        say(f"  serving with gunicorn: {workers} workers × {threads} threads on port {port}")
        with open(Path(tmp) / "server.log", "w") as log:
            server = start_server(env, port, workers, threads, log)
            result = GateResult(
                database=f"{label}, {workers}×{threads} gunicorn",
                scanners=scanners,
                tickets=len(codes),
            )
            try:
                say(f"  {scanners} scanners go …")
                drive(port, setup["token"], setup["lane"], codes, result)
            finally:
                server.terminate()
                server.wait(timeout=30)
        keep = Path(tempfile.gettempdir()) / "admit-bench-gates-offline.json"
        keep.write_text(json.dumps({"codes": codes, "bundle": bundle}))
    return result, keep


def run_offline(path: Path, say: Any = print) -> list[str]:
    """Judge every code once with ``OfflineLane`` in one thread (one core)."""
    from admit.access.offline import OfflineLane

    data = json.loads(path.read_text())
    codes: list[str] = data["codes"]
    lane = OfflineLane(data["bundle"])
    t0 = time.perf_counter()
    allowed = sum(lane.scan(code=c).allowed for c in codes)
    took = time.perf_counter() - t0
    again = sum(lane.scan(code=c).allowed for c in codes[:100])
    return [
        f"offline scans (verify + revocation list + rules + decision), one core: "
        f"{len(codes) / took:,.0f}/s ({took / len(codes) * 1e6:.0f} µs per scan)",
        f"allowed {allowed} of {len(codes)}; second scans allowed: {again} of 100 (must be 0)",
    ]
