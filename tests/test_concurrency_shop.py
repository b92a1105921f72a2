"""Races in the online shop's member sign-in: requests for a code sent at the same instant for
one phone get one code and one text message, never one each (the wait between codes holds)."""

from __future__ import annotations

import pytest

from admit.core.models import SandboxSms
from admit.demo.data import DEMO_MEMBER_PHONE
from admit.shop.models import SignInCode
from admit.shop.services import members
from tests.conftest import load_demo, run_concurrently

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

N = 6


def test_simultaneous_code_requests_send_one_code(clock):
    load_demo()
    texts = SandboxSms.objects.count()
    results = run_concurrently(lambda i: members.member_code_send(phone=DEMO_MEMBER_PHONE), N)
    sent = [r for r in results if isinstance(r, SignInCode)]
    refused = [r for r in results if not isinstance(r, SignInCode)]
    assert len(sent) == 1, results
    assert all(isinstance(e, members.CodeTooSoon) for e in refused), refused
    assert all(0 < e.details["retry_after"] <= 61 for e in refused)
    assert SignInCode.objects.filter(phone=DEMO_MEMBER_PHONE).count() == 1
    assert SandboxSms.objects.count() == texts + 1


def test_simultaneous_first_requests_for_a_new_phone_make_one_row(clock):
    load_demo()
    phone = "13700137001"  # nobody's: no text, but the same limits
    results = run_concurrently(lambda i: members.member_code_send(phone=phone), N)
    assert sum(isinstance(r, SignInCode) for r in results) == 1, results
    refused = [r for r in results if not isinstance(r, SignInCode)]
    assert all(isinstance(e, members.CodeTooSoon) for e in refused), refused
    assert SignInCode.objects.filter(phone=phone).count() == 1
