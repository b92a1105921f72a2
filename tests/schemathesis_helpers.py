"""Run schemathesis over an OpenAPI document against the Django application, in-process (WSGI).

Every operation of the schema gets ``max_examples`` generated requests per generation mode, all
inside one test (so the demo world is built once, not once per operation); the failures of all
operations are gathered and reported together, each with a ``curl`` line that reproduces it.

In ``make test`` the generation is derandomized: every run sends the same requests, so a red run
is reproducible and CI does not turn red on a new random draw. ``make fuzz`` explores instead:
``ADMIT_FUZZ=explore`` draws fresh random requests on each run and ``ADMIT_FUZZ_SCALE`` multiplies
the number of examples; what it finds becomes a regression test (see tests/test_nul_characters.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.schemas import BaseSchema

APP = get_wsgi_application()

Send = Callable[[Case, st.DataObject], None]

EXPLORE = os.environ.get("ADMIT_FUZZ", "") == "explore"
SCALE = max(1, int(os.environ.get("ADMIT_FUZZ_SCALE", "1") or 1))


@contextmanager
def in_test_transaction() -> Iterator[Any]:
    """The WSGI application, serving inside the test's transaction: as Django's test client
    does, the request signals must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield APP
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def fuzz(
    schema: BaseSchema,
    send: Send,
    *,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    max_examples: int = 25,
) -> list[str]:
    """Run ``send(case, data)`` for generated cases of every operation; returns the labels of
    the operations run, raises one AssertionError listing every failing operation."""
    failures: list[str] = []
    labels: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        labels.append(operation.label)
        for mode in modes:

            @settings(
                max_examples=max_examples * SCALE,
                derandomize=not EXPLORE,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
            def run(case: Case, data: st.DataObject) -> None:
                send(case, data)

            try:
                run()
            except Unsatisfiable:
                pass  # schemathesis cannot make this kind of input for this operation
            except Exception as exc:
                failures.append(f"{operation.label} ({mode.value}):\n{exc}")
    assert not failures, "\n\n".join(failures)
    return labels
