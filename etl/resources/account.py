"""The account itself: ``GET /v2/account`` → ``account`` (one row per account)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from etl.api.client import DattoClient
from etl.db.load import upsert
from etl.db.schema import account_columns, metadata
from etl.errors import MalformedResponseError
from etl.resources.base import Resource, ResourceResult, RunContext, as_int, pick, register

account = Table(
    "account",
    metadata,
    Column("uid", String(64), primary_key=True),
    Column("id", BigInteger),
    Column("name", Text),
    Column("currency", String(16)),
    Column("billing_email", Text, info={"doc": "descriptor.bilingEmail (sic in the API)"}),
    Column("device_limit", Integer),
    Column("time_zone", String(64)),
    Column("number_of_devices", Integer),
    Column("number_of_online_devices", Integer),
    Column("number_of_offline_devices", Integer),
    Column("number_of_on_demand_devices", Integer),
    Column("number_of_managed_devices", Integer),
    *account_columns(),
    info={"doc": "The Datto account: one row per account, with its device counts."},
)


def to_row(body: dict[str, Any]) -> dict[str, Any]:
    """``/v2/account`` → the ``account`` row."""
    status = body.get("devicesStatus")
    descriptor = body.get("descriptor")
    return {
        "uid": str(body["uid"]),
        "id": as_int(body.get("id")),
        "name": body.get("name"),
        "currency": body.get("currency"),
        # Datto spells it bilingEmail; accept the right spelling too, should they fix it.
        "billing_email": pick(descriptor, "bilingEmail") or pick(descriptor, "billingEmail"),
        "device_limit": as_int(pick(descriptor, "deviceLimit")),
        "time_zone": pick(descriptor, "timeZone"),
        "number_of_devices": as_int(pick(status, "numberOfDevices")),
        "number_of_online_devices": as_int(pick(status, "numberOfOnlineDevices")),
        "number_of_offline_devices": as_int(pick(status, "numberOfOfflineDevices")),
        "number_of_on_demand_devices": as_int(pick(status, "numberOfOnDemandDevices")),
        "number_of_managed_devices": as_int(pick(status, "numberOfManagedDevices")),
    }


def fetch_account(client: DattoClient) -> dict[str, Any]:
    """``GET /v2/account``, checked to name an account (the sync learns its uid from it)."""
    body = client.get("/v2/account")
    if not isinstance(body, dict) or not body.get("uid"):
        raise MalformedResponseError("/v2/account answered without an account uid")
    return body


@register
class Account(Resource):
    """One request, one row."""

    name = "account"
    tables: ClassVar = (account,)

    def run(self, ctx: RunContext) -> ResourceResult:
        body = fetch_account(ctx.client)
        with ctx.engine.begin() as conn:
            written = upsert(conn, account, ctx.stamp([to_row(body)]))
        return ResourceResult(rows_written=written, rows_seen=1, pages=1)
