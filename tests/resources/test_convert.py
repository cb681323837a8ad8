"""Converters and specs: one line per field gives the column and the value, whatever Datto
sends (strings for numbers, nulls, nested objects that are missing)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import BigInteger, Boolean, Date, Float, Integer, SmallInteger, String, Text

from etl.db.schema import JSONDoc, UTCDateTime
from etl.resources.convert import (
    BadItem,
    BadValue,
    Field,
    Spec,
    always_none,
    as_bool,
    as_float,
    as_int,
    as_str,
    converter,
    keyed,
    mapped,
    numbered,
    pick,
    snake,
    table_row,
    value_check,
)
from etl.resources.issues import collecting
from etl.resources.software import device_software


def test_converters_give_a_value_or_none_for_any_scalar() -> None:
    assert [as_int(v) for v in ("12", 12, 12.0, "", None, "x")] == [12, 12, 12] + [None] * 3
    assert [as_bool(v) for v in ("true", "False", 1, 0, None)] == [True, False, True, False, None]
    assert [as_float(v) for v in ("1.5", 2, "", "x")] == [1.5, 2.0, None, None]
    assert [as_str(v) for v in (123, "a", None)] == ["123", "a", None]
    assert pick({"a": {"b": 1}}, "a", "b") == 1
    assert pick({"a": None}, "a", "b") is None and pick(None, "a") is None
    assert snake("macAddress") == "mac_address" and snake("a64Bit") == "a64_bit"
    assert numbered([{"x": 1}, "junk", {"x": 2}], {"device_uid": "d"}) == [
        ({"x": 1}, {"device_uid": "d", "position": 0}),
        ({"x": 2}, {"device_uid": "d", "position": 2}),
    ]
    assert keyed([{"uid": "a"}, {"uid": ""}, {"name": "b"}], "uid", "test") == [{"uid": "a"}]


def test_the_column_type_chooses_the_converter() -> None:
    assert converter(BigInteger()) is as_int and converter(Integer()) is as_int
    assert converter(Text()) is as_str and converter(String(64)) is as_str
    assert converter(Boolean()) is as_bool and converter(Float()) is as_float
    assert converter(UTCDateTime())("2024-01-02T03:04:05Z") == datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert converter(Date())("2024-05-06") == date(2024, 5, 6)
    assert converter(JSONDoc)({"a": [1]}) == {"a": [1]}


def test_a_spec_gives_the_columns_and_the_row() -> None:
    spec = Spec(
        Field("uid", String(64), key=True),
        Field("id", Integer, index=True),
        Field("devicesStatus.numberOfDevices", Integer),
        Field("proxySettings.host", Text, column="proxy_host", doc="the proxy"),
        Field(lambda item: item.get("name") == "x", Boolean, column="is_x", nullable=False),
        Field(always_none, UTCDateTime, column="removed_at"),
    )
    columns = {c.name: c for c in spec.columns()}
    assert (
        list(columns)
        == spec.names
        == [
            "uid",
            "id",
            "number_of_devices",
            "proxy_host",
            "is_x",
            "removed_at",
        ]
    )
    assert columns["uid"].primary_key and not columns["uid"].nullable
    assert columns["id"].index and columns["proxy_host"].info == {"doc": "the proxy"}
    assert not columns["is_x"].nullable and columns["removed_at"].nullable
    item = {"uid": 7, "id": "12", "devicesStatus": {"numberOfDevices": "3"}, "name": "x"}
    assert spec.row(item) == {
        "uid": "7",
        "id": 12,
        "number_of_devices": 3,
        "proxy_host": None,  # proxySettings missing
        "is_x": True,
        "removed_at": None,
    }


@pytest.mark.parametrize("convert", [as_int, as_float, as_bool, as_str])
@pytest.mark.parametrize("value", [[1, 2], {"a": 1}])
def test_a_list_or_object_where_a_scalar_belongs_is_bad_not_null(convert: Any, value: Any) -> None:
    with pytest.raises(BadValue, match=r"where .* belongs"):
        convert(value)


@pytest.mark.parametrize(
    ("kind", "indexed", "value", "why"),
    [
        (Text, False, "a \ud800 b", "lone surrogate"),
        (Text, False, "a \x00 b", "NUL"),
        (String(64), False, "x" * 65, "longer than 64 characters"),
        (Text, True, "é" * 1001, "too long for an index"),
        (Integer, False, 2**31, "past the range"),
        (SmallInteger, False, -(2**15) - 1, "past the range"),
        (BigInteger, False, 10**30, "past the range"),
        (JSONDoc, False, {"a": ["\ud800"]}, "lone surrogate"),
        (JSONDoc, False, {"a": "\x00"}, "NUL"),
    ],
)
def test_values_no_dialect_can_store_are_refused(
    kind: Any, indexed: bool, value: Any, why: str
) -> None:
    check = value_check(kind() if isinstance(kind, type) else kind, indexed)
    assert check is not None
    with pytest.raises(BadValue, match=why):
        check(value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Text, "ünïcode ✓ and an emoji 😀"),
        (Text, "x" * 10_000),  # not indexed: any length
        (String(64), "x" * 64),
        (Integer, 2**31 - 1),
        (BigInteger, -(2**63)),
        (JSONDoc, {"a": ["😀", 1, None, True]}),
    ],
)
def test_values_that_fit_pass(kind: Any, value: Any) -> None:
    check = value_check(kind() if isinstance(kind, type) else kind)
    assert check is not None
    check(value)


def test_a_bad_item_is_skipped_and_noted_its_neighbours_kept() -> None:
    spec = Spec(Field("uid", String(64), key=True), Field("name", Text), Field("seen", UTCDateTime))
    spec.table_name = "things"
    items: list[Any] = [
        {"uid": "a", "name": "fine", "seen": 1787652415440},
        {"uid": "b", "name": ["a", "list"]},
        {"uid": "c" * 100, "name": "long key"},
        {"uid": "d", "name": "bad \ud800"},
        "not an object",
        {"uid": "e", "name": "late", "seen": "yesterday"},
    ]
    with collecting() as issues:
        rows = spec.rows(items)
    assert [r["uid"] for r in rows] == ["a", "e"] and rows[1]["seen"] is None
    found = issues.details()
    assert found["skipped_items"]["count"] == 4
    assert found["skipped_items"]["why"] == {
        "things.name: a list where text belongs": 1,
        "things.uid: longer than 64 characters (100)": 1,
        "things.name: not valid Unicode (a lone surrogate)": 1,
        "things: not an object": 1,
    }
    assert [e.get("key") for e in found["skipped_items"]["examples"]][:3] == [
        "b",
        "c" * 39 + "…",
        "d",
    ]
    assert found["unreadable_times"] == {
        "count": 1,
        "columns": {"things.seen": 1},
        "examples": [{"table": "things", "column": "seen", "value": "yesterday", "key": "e"}],
    }
    with collecting() as again:  # the same item met twice in a run counts once
        spec.rows(items[1:2] * 3)
    assert again.details()["skipped_items"]["count"] == 1


def test_rows_built_by_hand_are_checked_against_their_table() -> None:
    with collecting() as issues:
        rows = mapped(
            [{"name": "ok"}, {"name": ["x"]}, {"name": "é" * 1001}],
            lambda i: table_row(device_software, {"device_uid": "d", **i, "version": 1}),
        )
    assert rows == [{"device_uid": "d", "name": "ok", "version": "1"}]
    assert issues.details()["skipped_items"]["count"] == 2
    with pytest.raises(BadItem):
        table_row(device_software, {"device_uid": "u" * 65})
