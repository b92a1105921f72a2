"""Settings are safe outside demo mode; `admit serve` and `admit demo` serve with gunicorn."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ADMIT_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


SHOW = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='admit.settings'; "
    "from django.conf import settings as s; "
    "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS)"
)


def test_no_secret_key_outside_demo_refuses_to_start(tmp_path):
    result = _python(SHOW, {"ADMIT_DATA_DIR": str(tmp_path), "ADMIT_ALLOWED_HOSTS": "x.org"})
    assert result.returncode != 0
    assert "ADMIT_SECRET_KEY is not set" in result.stderr


def test_no_allowed_hosts_outside_demo_refuses_to_start(tmp_path):
    result = _python(SHOW, {"ADMIT_DATA_DIR": str(tmp_path), "ADMIT_SECRET_KEY": "k" * 50})
    assert result.returncode != 0
    assert "ADMIT_ALLOWED_HOSTS" in result.stderr


def test_production_defaults_are_safe(tmp_path):
    result = _python(
        SHOW,
        {
            "ADMIT_DATA_DIR": str(tmp_path),
            "ADMIT_SECRET_KEY": "k" * 50,
            "ADMIT_ALLOWED_HOSTS": "tickets.example.org",
        },
    )
    assert result.stdout.split() == ["False", "True", "True", "['tickets.example.org']"]


def test_demo_mode_makes_and_keeps_its_own_secret(tmp_path):
    code = SHOW.replace("print(", "print(s.SECRET_KEY, ")
    first = _python(code, {"ADMIT_DATA_DIR": str(tmp_path), "ADMIT_DEMO": "1"})
    second = _python(code, {"ADMIT_DATA_DIR": str(tmp_path), "ADMIT_DEMO": "1"})
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[0] == second.stdout.split()[0]
    assert len(first.stdout.split()[0]) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen[str], seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds}s")


def test_admit_demo_sets_up_and_serves_with_gunicorn(tmp_path):
    """What `make demo` runs: a fresh data dir, migrated, demo data, gunicorn on a port."""
    port = _free_port()
    admit = Path(sys.executable).with_name("admit")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADMIT_", "DJANGO_"))}
    proc = subprocess.Popen(
        [str(admit), "demo", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        home = _wait_for(f"http://127.0.0.1:{port}/", proc, seconds=120)
        assert b"Admit" in home
        health = _wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        assert b'"ok"' in health
        login = _wait_for(f"http://127.0.0.1:{port}/admin/login/", proc)
        assert b"csrfmiddlewaretoken" in login
        # Static files are served by the app itself (whitenoise), fingerprinted.
        css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]+\.css)"', login)
        assert css, login[:2000]
        assert b"body" in _wait_for(f"http://127.0.0.1:{port}{css.group(1).decode()}", proc)
        assert (tmp_path / "data" / "admit.sqlite3").exists()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "gunicorn" in out.lower() or "Booting worker" in out or "Listening at" in out
    assert "admin / admin" in out
