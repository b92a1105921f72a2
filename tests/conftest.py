from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client

from admit.accounts.models import User
from admit.accounts.services import token_create, user_create
from admit.core import versions
from admit.demo.data import cashier_on_shift, demo_load

DEMO_DAY = "2026-11-22 09:00 +0800"
# Browser tests run the live server's clock from here (ticking): an open Monday inside the
# demo's sale window, no holiday, no closure. On the real clock they would depend on the day
# and hour they run (the demo's closed Monday, weekend prices, a run across midnight).
LIVE_DAY = "2027-01-11 10:00 +0800"
CHROMIUM_CANDIDATES = [
    os.environ.get("ADMIT_CHROMIUM", ""),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _fresh_memory_caches() -> Iterator[None]:
    """Each test starts with empty in-process caches (the database is new for each test)."""
    versions.clear()
    yield
    versions.clear()


def load_demo() -> None:
    """The demo venue (云岭山风景区) with its staff, built through the services.

    The demo's calendar is relative to today, so it is built as of one fixed day.
    """
    with time_machine.travel(DEMO_DAY, tick=False):
        demo_load()


@pytest.fixture
def demo(db: Any) -> None:
    load_demo()


@pytest.fixture
def demo_live(live_server: Any) -> Iterator[Any]:
    """The demo venue behind the live server, its clock standing at ``LIVE_DAY`` and running
    on (in the server's threads as in the test)."""
    load_demo()
    with time_machine.travel(LIVE_DAY, tick=True):
        yield live_server


def wait_until(page: Any, condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """Let the browser run (and route handlers be called) until ``condition()`` holds."""
    for _ in range(int(seconds * 20)):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(what)


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time stands at the demo day (and runs on); ``clock.shift(timedelta)`` moves it."""
    with time_machine.travel(DEMO_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def cashier_api(demo: None) -> Client:
    return bearer_client(cashier_on_shift())


@pytest.fixture
def supervisor(db: Any) -> User:
    return User.objects.filter(username="supervisor").first() or user_create(
        username="supervisor", password="demo1234", roles=["supervisor"], actor=None
    )


def bearer_client(user: User) -> Client:
    # Long-lived, so that tests may travel to the day a ticket is used.
    _token, secret = token_create(actor=user, user=user, name="test", days=3650)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def api(supervisor: User) -> Client:
    """A test client that sends a supervisor's bearer token and asks for English."""
    return bearer_client(supervisor)


def run_concurrently(fn: Callable[[int], Any], n: int) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads released at the same instant; return results or errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def vendor(db: Any) -> str:
    return connection.vendor


# --- Browser --------------------------------------------------------------------------------


def _chromium() -> str | None:
    for path in CHROMIUM_CANDIDATES:
        if path and os.path.exists(path):
            return path
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = _chromium()
    if path is None:
        pytest.skip(
            "Browser tests need Chromium: on Debian run `apt-get install chromium` "
            "(or set ADMIT_CHROMIUM=/path/to/chromium). Playwright cannot download its own here."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    """Keep each phase's report on the test, for fixtures that explain a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _explain(page: Any, seen: list[str]) -> None:
    """What the page showed and did when a browser test failed (printed with the failure)."""
    print(f"\n--- the page at the failure: {page.url}")
    try:
        print(page.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''"))
    except Exception as exc:  # the page may be gone
        print(f"(no text: {exc})")
    print("--- its last requests, console messages and errors:")
    print("\n".join(seen[-40:]))


@pytest.fixture
def page(browser: Any, request: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    seen: list[str] = []
    pg.on("console", lambda m: seen.append(f"console {m.type}: {m.text}"))
    pg.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: seen.append(f"failed {r.method} {r.url}: {r.failure}"))
    pg.on("response", lambda r: seen.append(f"{r.status} {r.request.method} {r.url}"))
    yield pg
    call = getattr(request.node, "report_call", None)
    if call is not None and call.failed:
        _explain(pg, seen)
    if os.environ.get("ADMIT_SCREENSHOTS"):
        out = os.path.join(os.environ["ADMIT_SCREENSHOTS"], f"{request.node.name}.png")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        pg.screenshot(path=out, full_page=True)
    context.close()
