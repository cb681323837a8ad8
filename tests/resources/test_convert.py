"""Converters and specs: one line per field gives the column and the value, whatever Datto
sends (strings for numbers, nulls, nested objects that are missing)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, Integer, String, Text

from etl.db.schema import JSONDoc, UTCDateTime
from etl.resources.convert import (
    Field,
    Spec,
    always_none,
    as_bool,
    as_float,
    as_int,
    as_str,
    converter,
    keyed,
    numbered,
    pick,
    snake,
)


def test_converters_give_a_value_or_none_never_an_error() -> None:
    assert [as_int(v) for v in ("12", 12, 12.0, "", None, "x", [])] == [12, 12, 12] + [None] * 4
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
