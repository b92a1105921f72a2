"""``admit bench sales``: concurrent buyers through HTTP against a real server.

A fresh database (SQLite in a temporary folder, or a PostgreSQL database ``admit_bench``) gets
the demo venue and one hot time slot with ``places`` places; gunicorn serves it; ``buyers``
threads, each with its own keep-alive connection, create and pay orders of one ticket until
the slot is sold out. More buyers than places arrive, so the engine must refuse the rest.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def percentile_ms(values: list[float], q: float) -> float:
    """The ``q`` quantile of latencies in seconds, in milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Result:
    database: str
    buyers: int
    places: int
    paid: int = 0
    sold_out: int = 0
    errors: int = 0
    server_errors: int = 0
    locked_errors: int = 0
    elapsed: float = 0.0
    order_latencies: list[float] = field(default_factory=list)  # create + pay, seconds
    request_latencies: list[float] = field(default_factory=list)
    sold_in_pool: int = 0
    check_capacity_ok: bool = False
    client_cpu: float = 0.0  # seconds of CPU used by the buyers (this process)
    database_cpu: float | None = None  # PostgreSQL backends of the benchmark's database
    server_cpu: float = 0.0  # seconds of CPU used by gunicorn's master and workers
    machine_busy: float = 0.0  # share of all cores busy while the buyers ran (any process)

    @property
    def oversold(self) -> int:
        return max(self.sold_in_pool - self.places, 0)

    def pct(self, values: list[float], q: float) -> float:
        return percentile_ms(values, q)

    @property
    def mean_request_ms(self) -> float:
        if not self.request_latencies:
            return 0.0
        return statistics.fmean(self.request_latencies) * 1000

    def lines(self) -> list[str]:
        rate = self.paid / self.elapsed if self.elapsed else 0
        return [
            f"database           {self.database}",
            f"buyers             {self.buyers} concurrent, {self.places} places in the slot",
            f"paid orders        {self.paid} in {self.elapsed:.2f} s = {rate:.0f} paid orders/s",
            f"order (create+pay) p50 {self.pct(self.order_latencies, 0.5):.1f} ms, "
            f"p99 {self.pct(self.order_latencies, 0.99):.1f} ms",
            f"one request        p50 {self.pct(self.request_latencies, 0.5):.1f} ms, "
            f"p99 {self.pct(self.request_latencies, 0.99):.1f} ms, "
            f"mean {self.mean_request_ms:.1f} ms",
            f"refused sold out   {self.sold_out}",
            f"errors             {self.errors} (500s: {self.server_errors}, "
            f"'database is locked': {self.locked_errors})",
            f"sold in the slot   {self.sold_in_pool} of {self.places}: oversold {self.oversold}",
            f"check-capacity     {'OK' if self.check_capacity_ok else 'FAILED'}",
            f"CPU per paid order server {self.server_cpu / max(self.paid, 1) * 1000:.1f} ms, "
            + (
                f"database {self.database_cpu / max(self.paid, 1) * 1000:.1f} ms, "
                if self.database_cpu is not None
                else ""
            )
            + f"buyers {self.client_cpu / max(self.paid, 1) * 1000:.1f} ms; "
            f"all cores {self.machine_busy:.0%} busy (other processes included)",
        ]


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine from /proc/stat; (0, 0) elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its descendants (Linux /proc; else 0)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = entry.read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.parent.name)] = (int(fields[1]), float(fields[11]) + float(fields[12]))
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    family, total = {pid}, 0.0
    for _depth in range(3):
        family |= {p for p, (ppid, _cpu) in stats.items() if ppid in family}
    for p in family:
        total += stats.get(p, (0, 0.0))[1]
    return total / tick


def backends_cpu(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving ``database`` (Linux /proc,
    database on this machine; their title reads "postgres: user database host …")."""
    total = 0.0
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = entry.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres: ") or f" {database} " not in title:
                continue
            raw = (entry.parent / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        total += float(fields[11]) + float(fields[12])
    return total / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admit_cmd() -> list[str]:
    return [sys.executable, "-m", "admit"]


def bench_env(database_url: str, data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMIT_")}
    env.update(
        {
            "ADMIT_DATABASE_URL": database_url,
            "ADMIT_DATA_DIR": data_dir,
            "ADMIT_DEMO": "1",
            "ADMIT_LOG_LEVEL": "ERROR",
            "DJANGO_SETTINGS_MODULE": "admit.settings",
        }
    )
    return env


def fresh_postgres(url: str) -> str:
    """Recreate the database named in ``url`` (default admit_bench) and return its URL."""
    import psycopg

    parts = urllib.parse.urlparse(url)
    name = (parts.path or "/admit_bench").lstrip("/") or "admit_bench"
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()


def prepare(env: dict[str, str], places: int, say: Any) -> dict[str, Any]:
    say("  migrating and loading the demo venue …")
    subprocess.run([*admit_cmd(), "migrate", "--verbosity", "0"], env=env, check=True)
    # The signing key is made at installation, as a deployment does (`admit keys rotate`), not
    # by the first sixteen payments racing to make it.
    subprocess.run([*admit_cmd(), "keys", "rotate"], env=env, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(
        [*admit_cmd(), "bench-prepare", "--places", str(places)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(
    env: dict[str, str], port: int, workers: int, threads: int, log: Any
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "admit.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    proc.terminate()
    raise RuntimeError("the server did not start")


def drive(port: int, setup: dict[str, Any], result: Result) -> None:
    headers = {"Authorization": f"Bearer {setup['token']}", "Content-Type": "application/json"}
    body = json.dumps(
        {
            "channel": "window",
            "lines": [
                {
                    "product": setup["product"],
                    "date": setup["date"],
                    "slot": setup["slot"],
                    "quantity": 1,
                }
            ],
        }
    )
    lock = threading.Lock()
    start_gate = threading.Barrier(result.buyers)
    stop = threading.Event()
    deadline = time.perf_counter() + 600

    def request(
        conn: http.client.HTTPConnection, method: str, path: str, payload: str
    ) -> tuple[int, bytes, float]:
        t0 = time.perf_counter()
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - t0

    def buyer() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start_gate.wait()
        while not stop.is_set():
            try:
                t0 = time.perf_counter()
                status, data, took = request(conn, "POST", "/api/v1/orders", body)
                lats = [took]
                if status == 201:
                    code = json.loads(data)["code"]
                    status, data, took = request(
                        conn,
                        "POST",
                        f"/api/v1/orders/{code}/payments",
                        json.dumps({"method": "cash"}),
                    )
                    lats.append(took)
                total = time.perf_counter() - t0
                with lock:
                    result.request_latencies += lats
                    if status == 201:
                        result.paid += 1
                        result.order_latencies.append(total)
                    elif status == 409 and b"sold_out" in data:
                        result.sold_out += 1
                        if result.sold_out >= result.buyers * 2:
                            stop.set()
                    else:
                        result.errors += 1
                        if result.errors > 1000 or time.perf_counter() > deadline:
                            stop.set()
                        if status >= 500:
                            result.server_errors += 1
                        if b"locked" in data:
                            result.locked_errors += 1
            except (OSError, http.client.HTTPException):
                with lock:
                    result.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()

    threads = [threading.Thread(target=buyer) for _ in range(result.buyers)]
    busy0, total0 = cpu_times()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = time.perf_counter() - t0
    result.client_cpu = time.process_time() - cpu0
    busy1, total1 = cpu_times()
    result.machine_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0


def finish(env: dict[str, str], setup: dict[str, Any], result: Result) -> None:
    out = subprocess.run(
        [*admit_cmd(), "bench-prepare", "--report", str(setup["slot"])],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result.sold_in_pool = json.loads(out.stdout.strip().splitlines()[-1])["sold"]
    check = subprocess.run(
        [*admit_cmd(), "check-capacity"], env=env, capture_output=True, text=True
    )
    result.check_capacity_ok = check.returncode == 0


def run_sales(
    *, database: str, buyers: int, places: int, workers: int, threads: int, say: Any = print
) -> Result:
    """Run one benchmark on ``database`` ("sqlite" or a postgres:// URL)."""
    with tempfile.TemporaryDirectory(prefix="admit-bench-") as tmp:
        if database == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            label = "SQLite (WAL, immediate transactions)"
        else:
            url = fresh_postgres(database)
            label = "PostgreSQL"
        env = bench_env(url, tmp)
        say(f"{label}: preparing a fresh database …")
        setup = prepare(env, places, say)
        port = free_port()
        say(f"  serving with gunicorn: {workers} workers × {threads} threads on port {port}")
        server_log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed below
        server = start_server(env, port, workers, threads, server_log)
        result = Result(
            database=f"{label}, {workers}×{threads} gunicorn", buyers=buyers, places=places
        )
        try:
            say(f"  {buyers} buyers go …")
            db_name = urllib.parse.urlparse(url).path.lstrip("/") if database != "sqlite" else ""
            cpu_before, db_before = tree_cpu(server.pid), backends_cpu(db_name) if db_name else 0
            drive(port, setup, result)
            result.server_cpu = tree_cpu(server.pid) - cpu_before
            if db_name:
                result.database_cpu = backends_cpu(db_name) - db_before
        finally:
            server.terminate()
            server.wait(timeout=30)
            server_log.close()
        if result.server_errors:  # show why, before the temporary folder goes
            log_lines = (Path(tmp) / "server.log").read_text(errors="replace").splitlines()
            for line in [ln for ln in log_lines if not ln.startswith("Conflict:")][-60:]:
                say("  server: " + line)
        finish(env, setup, result)
    return result


def run_codes(*, n: int, say: Any = print) -> list[str]:
    """Offline verification as a gate does it: decode and verify ``n`` distinct codes with the
    public keys alone, in one thread (one core). Returns the report lines."""
    import datetime as dt

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from admit.tickets import codec

    keys = {k: Ed25519PrivateKey.generate() for k in (1, 2)}
    public = {k: v.public_key() for k, v in keys.items()}
    say(f"  signing {n} codes with two keys …")
    t0 = time.perf_counter()
    codes = [
        codec.encode(
            codec.TicketClaims(
                key_id=1 + i % 2,
                ticket_id=10_000_000 + i,
                site_id=1,
                product_id=1 + i % 10,
                valid_from=dt.date(2026, 11, 23),
                valid_until=dt.date(2026, 11, 23),
                slot_start=dt.time(9, 30),
                slot_end=dt.time(11, 30),
                persons=1,
                entries=1,
            ),
            keys[1 + i % 2],
        )
        for i in range(n)
    ]
    signed = time.perf_counter() - t0
    say(f"  verifying {n} codes …")
    t0 = time.perf_counter()
    for code in codes:
        codec.decode(code, public)
    verified = time.perf_counter() - t0
    forged = codes[0][:-2] + ("AA" if codes[0][-2:] != "AA" else "BB")
    try:
        codec.decode(forged, public)
        refused = False
    except codec.CodeError:
        refused = True
    return [
        f"signed             {n} codes in {signed:.2f} s = {n / signed:,.0f} codes/s",
        f"verified offline   {n} codes in {verified:.2f} s = {n / verified:,.0f} codes/s "
        f"({verified / n * 1e6:.0f} µs per code: base32, Ed25519, fields)",
        f"a forged code      {'refused' if refused else 'ACCEPTED (defect!)'}",
    ]
