"""The simulator's audit, software and activity-log endpoints behave as API_FACTS.md says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from datto_sim import Simulator
from datto_sim import activity as sim_activity
from datto_sim import audits as sim_audits
from etl.api.client import DattoClient
from etl.errors import BadRequestError, NotFoundError
from tests.conftest import client_for


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(devices=60, sites=3, time_scale=100) as s:
        yield s


@pytest.fixture
def client(sim: Simulator) -> Iterator[DattoClient]:
    with client_for(sim) as c:
        yield c


def test_audits_by_class_and_software_sizes(sim: Simulator, client: DattoClient) -> None:
    by_class = {d["deviceClass"]: u for u, d in sim.devices.items()}
    agent, esxi, printer = by_class["device"], by_class["esxihost"], by_class["printer"]
    assert client.get(f"/v2/audit/device/{agent}")["systemInfo"]["totalCpuCores"]
    assert len(client.get(f"/v2/audit/esxihost/{esxi}")["guests"]) >= 2
    assert client.get(f"/v2/audit/printer/{printer}")["printerMarkerSupplies"]
    with pytest.raises(BadRequestError):
        client.get(f"/v2/audit/device/{printer}")
    with pytest.raises(NotFoundError):
        client.get("/v2/audit/device/no-such-device")
    sizes = [
        len(sim_audits.software(sim, u))
        for u, d in sim.devices.items()
        if d["deviceClass"] == "device"
    ]
    assert min(sizes) >= 50 and max(sizes) <= 300
    before = client.get(f"/v2/audit/device/{agent}/software", {"max": 250})
    assert before == client.get(f"/v2/audit/device/{agent}/software", {"max": 250})  # stable
    audit_date = sim.devices[agent]["lastAuditDate"]
    sim_audits.reaudit(sim, agent)
    assert sim.devices[agent]["lastAuditDate"] > audit_date
    after = client.get(f"/v2/audit/device/{agent}/software", {"max": 250})
    assert after["software"] != before["software"]


def test_activity_logs_page_with_search_after_to_an_empty_page(
    sim: Simulator, client: DattoClient
) -> None:
    params = {"from": "2000-01-01T00:00:00Z", "size": 7, "order": "asc"}
    seen: list[str] = []
    empty = 0
    for page in client.paginate("/v2/activity-logs", "activities", params):
        seen += [e["id"] for e in page.items]
        assert page.items or page.number > 0
        empty += not page.items
        if page.items:
            assert page.next_url and "searchAfter=" in page.next_url  # even on the last page
    assert empty == 1
    assert seen == [e["id"] for e in sim_activity.activities(sim)]  # oldest first, each once
    with pytest.raises(BadRequestError):
        client.get("/v2/activity-logs", {"from": "yesterday"})
    before = sim.clock.now() - 900
    recent = {e["id"] for e in client.get("/v2/activity-logs")["activities"]}  # 15 minutes
    after = sim.clock.now() - 900

    def since(cutoff: float) -> set[str]:
        return {e["id"] for e in sim_activity.activities(sim) if e["date"] >= cutoff}

    assert since(after) <= recent <= since(before) < set(seen)
