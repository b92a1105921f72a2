"""Offline lanes: the bundle, the embeddable verifier, batch upload, conflicts."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admit.access.models import Conflict, Scan
from admit.access.offline import OfflineLane
from admit.tickets.models import Ticket
from tests.gate_helpers import AT_GATE, SCAN_TIME, device_client, scan, sell
from tests.sales_helpers import IDS

pytestmark = pytest.mark.django_db


def bundle(lane: str, since: int = 0) -> dict:
    response = device_client(lane).get(f"/api/v1/gates/{lane}/offline-bundle", {"since": since})
    assert response.status_code == 200, response.content
    return response.json()


def upload(lane: str, scans: list[dict]) -> dict:
    response = device_client(lane).post(
        f"/api/v1/gates/{lane}/scans/batch", {"scans": scans}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def sold(demo, clock, api):
    return sell(api, quantity=3)


def test_the_offline_verifier_needs_no_django():
    code = (
        "import sys, admit.access.offline; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_an_offline_lane_admits_once_and_refuses_forgeries(sold):
    with time_machine.travel(AT_GATE, tick=True):
        lane = OfflineLane(bundle("east-1"))
        first = lane.scan(code=sold[0]["code"])
        again = lane.scan(code=sold[0]["code"])
        forged = lane.scan(
            code=sold[1]["code"][:-2] + ("AA" if sold[1]["code"][-2:] != "AA" else "BB")
        )
    assert (first.result, first.reason) == ("allow", "ok")
    assert again.reason == "used_up"
    assert forged.reason == "forged"
    assert len(lane.pending()) == 3


def test_revocations_reach_the_offline_lane_by_cursor(sold, api):
    with time_machine.travel(AT_GATE, tick=True):
        first = bundle("east-1")
        lane = OfflineLane(first)
        assert first["revocations"] == []
        response = api.post(
            f"/api/v1/orders/{sold[0]['order']}/refunds",
            {"tickets": [sold[0]["id"]]},
            content_type="application/json",
        )
        assert response.status_code in (200, 201), response.content
        newer = bundle("east-1", since=first["cursor"])
        lane.update(newer)
        assert newer["revocations"] == [sold[0]["id"]] and newer["cursor"] > first["cursor"]
        assert lane.scan(code=sold[0]["code"]).reason == "revoked"
        assert lane.scan(code=sold[1]["code"]).result == "allow"
        # Nothing new since the newer cursor.
        assert bundle("east-1", since=newer["cursor"])["revocations"] == []


def test_bundles_carry_no_id_numbers_in_clear_but_id_cards_work_offline(demo, clock, api):
    visitor = {"name": "王芳", "id_type": "resident_id", "id_number": IDS[2], "phone": ""}
    sell(api, "senior", visitors=[visitor])
    with time_machine.travel(AT_GATE, tick=True):
        data = bundle("east-1")
        assert IDS[2] not in json.dumps(data)
        lane = OfflineLane(data)
        assert lane.scan(medium=("id_card", IDS[2].lower())).result == "allow"
        assert lane.scan(medium=("id_card", IDS[3])).reason == "unknown_medium"


def test_upload_counts_offline_scans_once(sold):
    with time_machine.travel(AT_GATE, tick=True):
        lane = OfflineLane(bundle("east-1"))
        for t in sold:
            lane.scan(code=t["code"])
        lane.scan(code="NOT A CODE")
        pending = lane.pending()
        first = upload("east-1", pending)
        again = upload("east-1", pending)
    assert first["counts"] == {"recorded": 4}
    assert again["counts"] == {"duplicate": 4}
    assert Scan.objects.filter(offline=True).count() == 4
    assert Scan.objects.filter(offline=True, result="allow").count() == 3
    assert {t.entries_used for t in Ticket.objects.filter(pk__in=[t["id"] for t in sold])} == {1}
    # Online, the server knows they were used offline.
    with time_machine.travel("2027-01-11 09:45 +0800", tick=True):
        assert scan(device_client("east-1"), "east-1", code=sold[0]["code"])["reason"] == "used_up"


def test_the_same_ticket_admitted_at_two_offline_lanes_is_a_conflict(sold, api):
    with time_machine.travel(AT_GATE, tick=True):
        one, two = OfflineLane(bundle("east-1")), OfflineLane(bundle("east-2"))
        assert one.scan(code=sold[0]["code"]).allowed
        assert two.scan(code=sold[0]["code"]).allowed  # neither knows of the other
        a = upload("east-1", one.pending())
        b = upload("east-2", two.pending())
        assert a["counts"] == {"recorded": 1} and b["counts"] == {"conflict": 1}
        listed = api.get("/api/v1/conflicts").json()
    assert len(listed) == 1 and listed[0]["reason"] == "used_up"
    assert listed[0]["ticket"] == sold[0]["serial"] and listed[0]["lane"] == "east-2"
    resolved = api.post(
        f"/api/v1/conflicts/{listed[0]['id']}/resolve",
        {"note": "Family went through together; checked with the guide."},
        content_type="application/json",
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert Conflict.objects.get().resolved_by is not None
    assert api.get("/api/v1/conflicts").json() == []


def test_uploads_refuse_scans_without_an_id_and_bad_items_change_nothing(sold):
    with time_machine.travel(AT_GATE, tick=True):
        response = device_client("east-1").post(
            "/api/v1/gates/east-1/scans/batch",
            {"scans": [{"code": sold[0]["code"], "result": "allow", "scanned_at": "x"}]},
            content_type="application/json",
        )
    assert response.status_code == 400
    assert Scan.objects.count() == 0


def test_a_week_old_offline_scan_is_refused_as_out_of_time(sold):
    old = (SCAN_TIME - dt.timedelta(days=8)).isoformat()
    with time_machine.travel(AT_GATE, tick=True):
        result = upload(
            "east-1",
            [
                {
                    "scan_id": "old-1",
                    "code": sold[0]["code"],
                    "scanned_at": old,
                    "result": "allow",
                    "reason": "ok",
                }
            ],
        )
    assert result["counts"] == {"conflict": 1}
    assert Conflict.objects.get().reason == "scan_time_invalid"


@pytest.mark.django_db
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["in", "out"]), st.integers(min_value=1, max_value=9)),
        min_size=1,
        max_size=8,
    )
)
def test_online_and_offline_lanes_judge_alike(demo, clock, api, steps):
    """The same scans at the two-way lane east-4, once online, once offline: same answers."""
    from admit.access.selectors import lane_config
    from admit.access.services import ScanRequest, scan_redeem

    group = sell(api, "group", persons=20)[0]
    with time_machine.travel(AT_GATE, tick=False):
        lane = OfflineLane(bundle("east-4"))
        config = lane_config("east-4")
        for direction, persons in steps:
            online = scan_redeem(
                lane=config,
                request=ScanRequest(code=group["code"], direction=direction, persons=persons),
            ).decision
            offline = lane.scan(code=group["code"], direction=direction, persons=persons)
            assert (online.result, online.reason, online.remaining, online.persons) == (
                offline.result,
                offline.reason,
                offline.remaining,
                offline.persons,
            )


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_the_offline_lane_never_crashes_on_what_a_scanner_reads(text):
    lane = OfflineLane(OFFLINE_BUNDLE)
    decision = lane.scan(code=text)
    assert decision.result == "deny"
    assert lane.scan(medium=("card", text)).reason == "unknown_medium"


OFFLINE_BUNDLE = {
    "lane": {"id": 1, "code": "x-1", "site": 1, "zone": 0, "time_zone": "Asia/Shanghai"},
    "keys": [],
    "products": {},
    "calendar": {},
    "revocations": [],
}
