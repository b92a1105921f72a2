"""``admit gate-sim``: a lane in the terminal, online, offline, and uploading when back."""

from __future__ import annotations

import io
import json

import pytest
import time_machine
from django.core.management import call_command

from admit.access.models import Scan
from admit.access.selectors import lane_config, offline_bundle
from admit.accounts.models import Device, User
from admit.accounts.services import token_create
from tests.conftest import bearer_client, load_demo
from tests.gate_helpers import AT_GATE, sell


def run(tmp_path, *args: str, lines: list[str]) -> str:
    scans = tmp_path / "scans.txt"
    scans.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "gate-sim",
        "--lane",
        "east-1",
        "--state-dir",
        str(tmp_path),
        "--file",
        str(scans),
        "--no-color",
        "--language",
        "en",
        *args,
        stdout=out,
    )
    return out.getvalue()


@pytest.mark.django_db
def test_offline_with_a_bundle(demo, clock, api, tmp_path):
    tickets = sell(api, quantity=2)
    with time_machine.travel(AT_GATE, tick=True):
        bundle = offline_bundle(lane=lane_config("east-1"))
        (tmp_path / "gate-east-1.bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
        output = run(
            tmp_path,
            "--offline",
            lines=[tickets[0]["code"], tickets[0]["code"], "card:04A2B3C4", "# a comment", ""],
        )
    rows = [line for line in output.splitlines() if "Welcome" in line or "used" in line]
    assert rows[0].startswith("ALLOW") and "[offline]" in rows[0]
    assert rows[1].startswith("DENY") and "Ticket already used" in rows[1]
    assert "No ticket on this card" in output
    state = json.loads((tmp_path / "gate-east-1.state.json").read_text(encoding="utf-8"))
    assert len(state["queue"]) == 3
    # The next run remembers what was used.
    with time_machine.travel("2027-01-11 09:50 +0800", tick=True):
        again = run(tmp_path, "--offline", lines=[tickets[0]["code"]])
    assert "Ticket already used" in again
    assert Scan.objects.count() == 0  # nothing reached the server


@pytest.mark.django_db(transaction=True)
def test_online_then_offline_then_back(live_server, clock, tmp_path):
    load_demo()
    tickets = sell(bearer_client(User.objects.get(username="supervisor")), quantity=3)
    _token, secret = token_create(
        actor=None, device=Device.objects.get(lane__code="east-1"), days=3650
    )
    with time_machine.travel(AT_GATE, tick=True):
        online = run(
            tmp_path, "--server", live_server.url, "--token", secret, lines=[tickets[0]["code"]]
        )
        assert "ALLOW" in online and "[offline]" not in online
        assert Scan.objects.filter(offline=False, result="allow").count() == 1
        # The server goes away (nothing listens on port 9): the lane decides with its bundle.
        down = run(
            tmp_path,
            "--server",
            "http://127.0.0.1:9",
            "--token",
            secret,
            lines=[tickets[1]["code"], tickets[0]["code"]],
        )
        assert "OFFLINE" in down and "waits" not in down.splitlines()[0]
        assert "[offline]" in down and "2 offline scans wait" in down
        back = run(
            tmp_path, "--server", live_server.url, "--token", secret, lines=[tickets[2]["code"]]
        )
    assert "Back online: uploaded 2 offline scans" in back
    assert Scan.objects.filter(offline=True).count() == 2
    assert Scan.objects.filter(offline=False, result="allow").count() == 2


@pytest.mark.django_db
def test_device_token_prints_a_token_for_the_lanes_device(demo):
    from django.core.management import CommandError

    from admit.accounts.models import ApiToken

    out = io.StringIO()
    call_command("device-token", "east-1", stdout=out)
    secret = out.getvalue().strip()
    assert secret.startswith("adm_")
    assert ApiToken.objects.get(device__lane__code="east-1").expires_at is not None
    with pytest.raises(CommandError, match="No active device"):
        call_command("device-token", "nowhere")
