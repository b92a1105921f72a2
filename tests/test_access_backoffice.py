"""The back office for access control: the lane monitor and its mode switches, occupancy,
scans, offline conflicts and bound media."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from admit.access.decision import TEXTS, Reason
from admit.access.models import Conflict, Scan
from admit.accounts.models import User
from admit.catalog.models import Lane
from admit.catalog.services import lane_save
from admit.core.models import AuditEntry
from admit.tickets.models import TicketMedium
from tests.conftest import DEMO_DAY, bearer_client, load_demo
from tests.gate_helpers import AT_GATE, bind_card, device_client, scan, sell, sell_annual_pass

pytestmark = pytest.mark.django_db

MONITOR = "/admin/access/lanestatus/"
OCCUPANCY = "/admin/access/lanestatus/occupancy/"
MODE = "/admin/access/lanestatus/mode/"
LATER = "2027-01-11 10:00 +0800"
USED_UP = TEXTS[Reason.USED_UP][1]


def office(username: str = "supervisor", language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(User.objects.get(username=username))
    return client


def lane_row(html: str, code: str) -> str:
    match = re.search(
        rf'<tr class="lane [^"]*" id="lane-{code}".*?</tr>\s*(?=<tr class="lane|</tbody)',
        html,
        re.S,
    )
    assert match, f"lane {code} not on the page"
    return match.group(0)


@pytest.fixture
def sold(demo, clock, api):
    return sell(api, quantity=3)


@pytest.fixture
def scanned(sold):
    """Three people enter at east-1, one leaves at exit-1; east-1 beats its heart."""
    east, exit_ = device_client("east-1"), device_client("exit-1")
    with time_machine.travel(AT_GATE, tick=True):
        for ticket in sold:
            assert scan(east, "east-1", code=ticket["code"])["result"] == "allow"
        assert scan(east, "east-1", code=sold[0]["code"])["reason"] == "used_up"
        assert scan(exit_, "exit-1", code=sold[0]["code"])["reason"] == "exit"
        east.post(
            "/api/v1/gates/east-1/heartbeat",
            {"software": "gate-fw 2.1", "offline_queue": 4},
            content_type="application/json",
        )
    return sold


def test_the_monitor_shows_every_lane_with_mode_contact_and_last_scans(scanned):
    with time_machine.travel(LATER, tick=True):  # 20 minutes after the heartbeat
        response = office().get(MONITOR)
    assert response.status_code == 200
    html = response.content.decode()
    for code in Lane.objects.filter(is_active=True).values_list("code", flat=True):
        assert f'id="lane-{code}"' in html
    east = lane_row(html, "east-1")
    assert 'data-mode="normal"' in east and "mode-badge normal" in east
    assert re.search(r"\b(19|20) min ago", east) and "stale-flag" in east
    assert "gate-fw 2.1" in east and '"queue waiting' in east.replace("class=", "")
    assert east.count("<tr>") == 4  # three entries and the refusal, newest first
    assert USED_UP in east
    assert scanned[0]["serial"] in east
    assert "Welcome, please pass" in east
    assert "never" in lane_row(html, "east-2") and "no scans yet" in lane_row(html, "east-2")
    assert 'http-equiv="refresh"' in html
    # Buttons to switch the mode, with the CSRF token.
    assert 'value="emergency_open"' in east and "csrfmiddlewaretoken" in east


def test_the_monitor_speaks_chinese(scanned):
    with time_machine.travel(LATER, tick=True):
        html = office(language="zh-hans").get(MONITOR).content.decode()
    assert "通道监控" in html and "请通行" in lane_row(html, "east-1")


def test_a_mode_switch_changes_the_lane_at_once_and_is_audited(scanned):
    supervisor = User.objects.get(username="supervisor")
    with time_machine.travel(LATER, tick=True):
        client = office()
        response = client.post(MODE, {"lane": "east-1", "mode": "emergency_open"}, follow=True)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-mode="emergency_open"' in lane_row(html, "east-1")
        assert "is now: emergency open" in html
        assert Lane.objects.get(code="east-1").mode == "emergency_open"
        # The lane obeys at its next scan.
        answer = scan(device_client("east-1"), "east-1", code="anything", persons=2)
        assert (answer["result"], answer["reason"]) == ("allow", "emergency_open")
        client.post(MODE, {"lane": "east-1", "mode": "closed"})
    assert Lane.objects.get(code="east-1").mode == "closed"
    entries = AuditEntry.objects.filter(object_repr__contains="east-1", action="update")
    assert entries.count() == 2 and {e.actor_id for e in entries} == {supervisor.pk}
    assert {e.via for e in entries} == {"web"}


def test_a_gate_operator_switches_modes_and_a_cashier_may_not(scanned):
    with time_machine.travel(LATER, tick=True):
        gate = office("gate")
        assert 'value="closed"' in lane_row(gate.get(MONITOR).content.decode(), "east-2")
        gate.post(MODE, {"lane": "east-2", "mode": "closed"})
        assert Lane.objects.get(code="east-2").mode == "closed"

        cashier = office("cashier")
        assert cashier.get(MONITOR).status_code == 403
        assert cashier.post(MODE, {"lane": "east-2", "mode": "normal"}).status_code == 403
        assert Lane.objects.get(code="east-2").mode == "closed"


def test_without_the_right_to_set_modes_the_buttons_are_gone_and_a_post_is_refused(scanned):
    from admit.accounts.services import user_create

    user_create(username="viewer", password="demo1234", roles=["auditor"], actor=None)
    with time_machine.travel(LATER, tick=True):
        viewer = office("viewer")
        html = viewer.get(MONITOR).content.decode()
        assert 'data-mode="normal"' in lane_row(html, "east-1")
        assert 'name="mode"' not in html
        assert viewer.post(MODE, {"lane": "east-1", "mode": "closed"}).status_code == 403
    assert Lane.objects.get(code="east-1").mode == "normal"
    assert not AuditEntry.objects.filter(object_repr__contains="east-1", action="update").exists()


def test_an_unknown_mode_or_lane_says_so_and_changes_nothing(scanned):
    with time_machine.travel(LATER, tick=True):
        client = office()
        html = client.post(MODE, {"lane": "east-1", "mode": "party"}, follow=True).content
        assert b"Unknown lane mode" in html
        html = client.post(MODE, {"lane": "nowhere", "mode": "closed"}, follow=True).content
        assert b"No such lane" in html
        assert client.get(MODE).status_code == 302
    assert Lane.objects.get(code="east-1").mode == "normal"


def test_no_lanes_gives_a_helpful_empty_state(demo, supervisor):
    for lane in Lane.objects.all():
        lane.is_active = False
        lane_save(instance=lane, actor=supervisor)
    html = office().get(MONITOR).content.decode()
    assert 'id="monitor-empty"' in html and "Add a lane" in html


def test_occupancy_figures_match_the_scans(scanned):
    with time_machine.travel(LATER, tick=True):
        response = office().get(OCCUPANCY)
    assert response.status_code == 200
    html = response.content.decode()
    inside = re.search(r'id="inside-now"><div class="n">(\d+)<', html)
    entered = re.search(r'id="entered-today"><div class="n">(\d+)<', html)
    exited = re.search(r'id="exited-today"><div class="n">(\d+)<', html)
    assert inside and entered and exited
    assert (inside.group(1), entered.group(1), exited.group(1)) == ("2", "3", "1")
    allowed = Scan.objects.filter(result="allow")
    assert sum(s.admitted for s in allowed if s.direction == "in") == 3
    main = re.search(
        r'<td class="zone">(Scenic area|[^<]*)</td>\s*<td class="num inside">(\d+)<', html
    )
    assert main and main.group(2) == "2"
    assert 'id="estimate-note"' not in html


def test_occupancy_is_estimated_where_no_lane_scans_exits(scanned, supervisor):
    for lane in Lane.objects.filter(direction__in=["out", "both"]):
        lane.is_active = False
        lane_save(instance=lane, actor=supervisor)
    with time_machine.travel(LATER, tick=True):
        html = office().get(OCCUPANCY).content.decode()
    assert 'id="estimate-note"' in html and "average stay" in html


def test_occupancy_says_when_nothing_was_scanned_today(demo, clock):
    html = office().get(OCCUPANCY).content.decode()
    assert 'id="occupancy-empty"' in html and "Nothing has been scanned" in html


def test_scans_are_listed_with_reason_text_and_found_by_ticket_number(scanned):
    with time_machine.travel(LATER, tick=True):
        client = office("gate")
        html = client.get("/admin/access/scan/").content.decode()
        assert USED_UP in html
        found = client.get("/admin/access/scan/", {"q": scanned[1]["serial"]}).content.decode()
        assert scanned[1]["serial"] in found and scanned[2]["serial"] not in found
        denied = client.get("/admin/access/scan/", {"reason": "used_up"}).content.decode()
        assert denied.count('class="scan-result scan-deny"') == 1
        scan_row = Scan.objects.first()
        assert scan_row is not None
        response = client.post(f"/admin/access/scan/{scan_row.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403


@pytest.fixture
def conflict(scanned):
    """east-2 let the used-up first ticket through while offline."""
    lane = device_client("east-2")
    with time_machine.travel(AT_GATE, tick=True):
        response = lane.post(
            "/api/v1/gates/east-2/scans/batch",
            {
                "scans": [
                    {
                        "code": scanned[0]["code"],
                        "scan_id": "e2-0001",
                        "scanned_at": "2027-01-11T09:45:00+08:00",
                        "result": "allow",
                    }
                ]
            },
            content_type="application/json",
        )
    assert response.json()["counts"] == {"conflict": 1}, response.content
    return Conflict.objects.get()


def test_conflicts_are_listed_open_first_and_resolved_with_a_note(conflict, scanned):
    with time_machine.travel(LATER, tick=True):
        client = office("gate")
        html = client.get("/admin/access/conflict/").content.decode()
        assert scanned[0]["serial"] in html and "east-2" in html
        assert USED_UP in html and "09:45:00" in html
        url = f"/admin/access/conflict/{conflict.pk}/resolve/"
        assert 'class="button resolve-conflict"' in html and url in html
        form = client.get(url)
        assert form.status_code == 200 and b'name="note"' in form.content
        empty = client.post(url, {"note": "  "})
        assert b"errornote" in empty.content
        client.post(url, {"note": "Two visitors on one ticket; the second paid at the window."})
    conflict.refresh_from_db()
    assert conflict.status == "resolved" and conflict.note.startswith("Two visitors")
    assert conflict.resolved_by == User.objects.get(username="gate")
    assert AuditEntry.objects.filter(verb="conflict_resolved").count() == 1


def test_the_resolve_action_asks_for_a_note_first(conflict):
    with time_machine.travel(LATER, tick=True):
        client = office()
        ask = client.post(
            "/admin/access/conflict/",
            {"action": "resolve_selected", "_selected_action": [conflict.pk], "index": 0},
        )
        assert ask.status_code == 200 and b'name="note"' in ask.content
        conflict.refresh_from_db()
        assert conflict.status == "open"
        done = client.post(
            "/admin/access/conflict/",
            {
                "action": "resolve_selected",
                "_selected_action": [conflict.pk],
                "apply": "1",
                "note": "Checked with the gate staff.",
            },
            follow=True,
        )
        assert b"1 conflict resolved" in done.content
    conflict.refresh_from_db()
    assert conflict.status == "resolved"


def test_resolving_needs_the_right(conflict, supervisor):
    from admit.accounts.services import user_create

    user_create(username="viewer", password="demo1234", roles=["auditor"], actor=None)
    with time_machine.travel(LATER, tick=True):
        viewer = office("viewer")
        html = viewer.get("/admin/access/conflict/").content.decode()
        assert 'class="button resolve-conflict"' not in html and "resolve_selected" not in html
        response = viewer.post(f"/admin/access/conflict/{conflict.pk}/resolve/", {"note": "no"})
        assert response.status_code == 403
    conflict.refresh_from_db()
    assert conflict.status == "open"


def test_bound_media_are_shown_masked(demo, clock, api):
    annual = sell_annual_pass(api)
    bind_card(api, annual["serial"], "04:a2:b3:c4:d5:e6")
    medium = TicketMedium.objects.get()
    client = office()
    html = client.get("/admin/tickets/ticketmedium/").content.decode()
    assert annual["serial"] in html and medium.masked in html and medium.value not in html
    detail = client.get(f"/admin/tickets/ticketmedium/{medium.pk}/change/").content.decode()
    assert medium.masked in detail and medium.value not in detail


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_opens_a_lane_in_an_emergency_and_checks_occupancy(live_server, page):
    load_demo()
    supervisor = User.objects.get(username="supervisor")
    api = bearer_client(supervisor)
    with time_machine.travel(DEMO_DAY, tick=True):
        tickets = sell(api, quantity=2)
    east = device_client("east-1")
    base = live_server.url
    with time_machine.travel(AT_GATE, tick=True):
        for ticket in tickets:
            scan(east, "east-1", code=ticket["code"])
        east.post("/api/v1/gates/east-1/heartbeat", {}, content_type="application/json")

        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "supervisor")
        page.fill("#id_password", "demo1234")
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        page.goto(f"{base}{MONITOR}")
        row = page.locator("#lane-east-1")
        assert row.get_attribute("data-mode") == "normal"
        assert "Welcome, please pass" in row.inner_text()
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            row.locator("button.to-emergency_open").click()
        row = page.locator("#lane-east-1")
        assert row.get_attribute("data-mode") == "emergency_open"
        badge = row.locator(".mode-badge")
        assert badge.inner_text().lower() == "emergency open"
        colour = badge.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(240, 162, 2)"  # amber
        assert "is now: emergency open" in page.inner_text(".messagelist")
        assert Lane.objects.get(code="east-1").mode == "emergency_open"
        page.screenshot(path="/tmp/admit-lane-monitor-en.png")

        page.click("#occupancy-link")
        page.wait_for_selector("#inside-now")
        assert page.inner_text("#inside-now .n") == "2"
        assert page.locator("#occupancy-zones tbody tr").count() >= 1
        page.screenshot(path="/tmp/admit-occupancy-en.png")

        with page.expect_navigation():
            page.select_option("#admit-language", "zh-hans")
        assert "当前在园" in page.inner_text("#content")
        page.screenshot(path="/tmp/admit-occupancy-zh.png")
        page.goto(f"{base}{MONITOR}")
        assert "紧急常开" in page.inner_text("#lane-east-1")
        page.screenshot(path="/tmp/admit-lane-monitor-zh.png")
