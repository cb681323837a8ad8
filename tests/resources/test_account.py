"""The account row: one per account, device counts and the misspelt billing e-mail."""

from __future__ import annotations

from sqlalchemy import Engine

from etl.resources.account import account
from tests.resources.helpers import rows, small_sim, sync


def test_account_row(engine: Engine) -> None:
    with small_sim(devices=12, sites=2) as sim:
        assert sync(sim, engine, ["account"]).ok
        (row,) = rows(engine, account)
        assert row.uid == row.account_uid == sim.account_uid
        assert row.billing_email == "billing@msp.example"  # descriptor.bilingEmail
        assert (row.device_limit, row.time_zone) == (5000, "Europe/London")
        live = [d for d in sim.devices.values() if not d["deleted"]]
        assert row.number_of_devices == len(live)
        assert row.number_of_online_devices == sum(1 for d in live if d["online"])
        assert sync(sim, engine, ["account"]).resources[0].rows_written == 0
