"""Devices: ``GET /v2/account/devices`` → ``devices``, completed per site where needed.

The account-wide list has been seen to miss devices that per-site listings show, so after
the sweep every site whose ``number_of_devices`` (from the sites resource) exceeds the
devices seen for it is listed again with ``GET /v2/site/{uid}/devices``. That costs nothing
on a healthy account and closes the gap on a sick one.

Removal is never read from a sweep: a device that shows up ``deleted`` (moved to the
"Deleted Devices" site) gets ``removed_at``; a stored device that no listing showed is asked
for by itself and gets ``removed_at`` only on a 404 (:mod:`etl.resources.removal`). A
device seen alive again has ``removed_at`` cleared.

Each page also records history in its transaction (:mod:`etl.history`): a ``device_history``
version per change of the slowly-changing attributes, and the day's ``device_daily`` row of
every live device.

The devices whose audit moved are the owners of the per-device resources: :func:`due_devices`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    Integer,
    String,
    Table,
    Text,
    select,
)

from etl.db.load import chunks
from etl.db.schema import JSONDoc, UTCDateTime
from etl.history import daily, versions
from etl.resources.base import RunContext, register
from etl.resources.convert import Field, Spec, always_none, as_int
from etl.resources.shapes import Due, ListResource, Rows, Sweep
from etl.resources.sites import sites

UDF_COLUMNS = 30  # udf1..udf30 are columns; live accounts have up to udf300 (rest: udf_extra)


def udf_extra(item: dict[str, Any]) -> dict[str, Any] | None:
    """The non-null UDFs past :data:`UDF_COLUMNS` as one JSON object (None when none)."""
    udf = item.get("udf")
    if not isinstance(udf, dict):
        return None
    extra = {
        k: v
        for k, v in udf.items()
        if v is not None and k.startswith("udf") and (as_int(k[3:]) or 0) > UDF_COLUMNS
    }
    return extra or None


SPEC = Spec(
    Field("uid", String(64), key=True),
    Field("id", BigInteger, index=True),
    Field("siteUid", String(64), index=True),
    Field("siteId", BigInteger),
    Field("siteName", Text),
    Field("hostname", Text),
    Field("description", Text),
    Field("deviceClass", String(32)),
    Field("deviceType.category", Text, column="device_type_category"),
    Field("deviceType.type", Text, column="device_type_type"),
    Field("operatingSystem", Text),
    Field("intIpAddress", Text),
    Field("extIpAddress", Text),
    Field("lastLoggedInUser", Text),
    Field("domain", Text),
    Field("cagVersion", Text),
    Field("displayVersion", Text),
    Field("a64Bit", Boolean),
    Field("online", Boolean),
    Field("suspended", Boolean),
    Field("deleted", Boolean),
    Field("rebootRequired", Boolean),
    Field("snmpEnabled", Boolean),
    Field("networkProbe", Boolean),
    Field("onboardedViaNetworkMonitor", Boolean),
    Field("lastSeen", UTCDateTime),
    Field("lastReboot", UTCDateTime),
    Field("lastAuditDate", UTCDateTime),
    Field("creationDate", UTCDateTime),
    Field("warrantyDate", Date),
    Field("antivirus.antivirusProduct", Text),
    Field("antivirus.antivirusStatus", String(64)),
    Field("patchManagement.patchStatus", String(64)),
    Field("patchManagement.patchesInstalled", Integer),
    Field("patchManagement.patchesApprovedPending", Integer),
    Field("patchManagement.patchesNotApproved", Integer),
    Field("softwareStatus", Text),
    Field("portalUrl", Text),
    Field("webRemoteUrl", Text),
    *(Field(f"udf.udf{n}", Text) for n in range(1, UDF_COLUMNS + 1)),
    Field(udf_extra, JSONDoc, column="udf_extra", doc="non-null udf31..udf300 as a JSON object"),
    # seen alive now, so not removed (cleared if it came back); `deleted` ones: Devices.save
    Field(
        always_none, UTCDateTime, column="removed_at", doc="set once the device is confirmed gone"
    ),
)
devices = SPEC.table(
    "devices", "Devices of every site, with patch, antivirus and UDF fields flattened."
)


def due_devices(
    conn: Connection, account_uid: str, state: Table, classes: Sequence[str]
) -> list[Due]:
    """Live devices of ``classes`` whose entry in ``state`` is missing or stale.

    ``state`` has ``device_uid`` and ``audited_at`` (the ``last_audit_date`` it was taken
    at); a device without an entry is due once. These are the owners of per-device resources.
    """
    stored = state.alias("stored")
    query = (
        select(devices.c.uid, devices.c.device_class, devices.c.last_audit_date)
        .select_from(
            devices.outerjoin(
                stored,
                (stored.c.account_uid == devices.c.account_uid)
                & (stored.c.device_uid == devices.c.uid),
            )
        )
        .where(
            devices.c.account_uid == account_uid,
            devices.c.removed_at.is_(None),
            devices.c.device_class.in_(classes),
            stored.c.device_uid.is_(None)
            | stored.c.audited_at.is_distinct_from(devices.c.last_audit_date),
        )
        .order_by(devices.c.uid)
    )
    return [Due(uid, cls, when) for uid, cls, when in conn.execute(query)]


@register
class Devices(ListResource):
    """The account-wide device list, topped up per site where it came back short."""

    name = "devices"
    depends_on = ("sites",)
    tables = (devices,)
    spec = SPEC
    path = "/v2/account/devices"
    items_key = "devices"
    one_path = "/v2/device/{uid}"
    tally_by = "siteUid"  # devices seen per site, against the site's own count
    cadence = "every 15m"
    cost = (
        "the list, one list per site that came back short, and one `GET` per stored device "
        "the sweep missed (404 confirms removal)"
    )

    def save(
        self, ctx: RunContext, conn: Connection, rows: Rows, owners: Sequence[str] | None
    ) -> int:
        # In "Deleted Devices": removal confirmed by Datto itself; keep the first such moment.
        deleted = [row for row in rows.get(devices, ()) if row["deleted"]]
        stored: dict[str, Any] = {}
        for part in chunks(sorted({row["uid"] for row in deleted}), 500):
            query = select(devices.c.uid, devices.c.removed_at).where(
                devices.c.account_uid == ctx.account_uid, devices.c.uid.in_(part)
            )
            stored.update((uid, removed_at) for uid, removed_at in conn.execute(query))
        for row in deleted:
            row["removed_at"] = stored.get(row["uid"]) or ctx.started_at
        return super().save(ctx, conn, rows, owners)

    def after_sweep(self, ctx: RunContext, sweep: Sweep) -> None:
        with ctx.engine.connect() as conn:
            expected = conn.execute(
                select(sites.c.uid, sites.c.number_of_devices).where(
                    sites.c.account_uid == ctx.account_uid, sites.c.removed_at.is_(None)
                )
            ).all()
        short = [uid for uid, n in expected if n and sweep.tally[uid] < n]
        for uid in short:
            self.read(ctx, sweep, f"/v2/site/{uid}/devices")
        ctx.result.details["sites_relisted"] = len(short)
        with ctx.transaction() as tx:
            tx.history += daily.prune(ctx, tx.conn)

    def track(self, ctx: RunContext, conn: Connection, rows: Rows) -> int:
        found = rows.get(devices, ())
        tracked = versions.observe(ctx, conn, versions.DEVICES, found)
        return tracked + daily.observe(ctx, conn, found)

    def untrack(self, ctx: RunContext, conn: Connection, uids: list[str]) -> int:
        return versions.close(ctx, conn, versions.DEVICES, uids)
