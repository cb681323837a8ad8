"""The account itself: ``GET /v2/account`` → ``account`` (one row per account)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text

from etl.api.client import DattoClient
from etl.db.load import upsert
from etl.errors import MalformedResponseError
from etl.resources.base import Resource, RunContext, register
from etl.resources.convert import Field, Spec, pick


def billing_email(body: dict[str, Any]) -> Any:
    """Datto spells it bilingEmail; accept the right spelling too, should they fix it."""
    return pick(body, "descriptor", "bilingEmail") or pick(body, "descriptor", "billingEmail")


SPEC = Spec(
    Field("uid", String(64), key=True),
    Field("id", BigInteger),
    Field("name", Text),
    Field("currency", String(16)),
    Field(
        billing_email, Text, column="billing_email", doc="descriptor.bilingEmail (sic in the API)"
    ),
    Field("descriptor.deviceLimit", Integer),
    Field("descriptor.timeZone", String(64)),
    Field("devicesStatus.numberOfDevices", Integer),
    Field("devicesStatus.numberOfOnlineDevices", Integer),
    Field("devicesStatus.numberOfOfflineDevices", Integer),
    Field("devicesStatus.numberOfOnDemandDevices", Integer),
    Field("devicesStatus.numberOfManagedDevices", Integer),
)
account = SPEC.table("account", "The Datto account: one row per account, with its device counts.")


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
    tables = (account,)
    cost = "one request"

    def run(self, ctx: RunContext) -> None:
        body = fetch_account(ctx.client)
        ctx.result.rows_seen = ctx.result.pages = 1
        with ctx.transaction() as tx:
            tx.written += upsert(tx.conn, account, ctx.stamp(SPEC.rows([body])))
