"""Every Datto time shape becomes an aware UTC datetime."""

from datetime import UTC, date, datetime

import pytest

from etl.api.timestamps import UnreadableTime, read_date, read_utc, to_date, to_utc

MOMENT = datetime(2026, 8, 25, 10, 6, 55, 440000, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        1787652415440,
        1787652415440.0,
        "1787652415440",
        "2026-08-25T10:06:55.440Z",
        "2026-08-25T10:06:55.440+00:00",
        "2026-08-25T12:06:55.440+02:00",
        "2026-08-25T10:06:55.44",
    ],
)
def test_shapes(value: object) -> None:
    assert to_utc(value) == MOMENT


@pytest.mark.parametrize(
    "value", [0, None, "", -62135596800000, "0001-01-01T00:00:00", "junk", True]
)
def test_no_date(value: object) -> None:
    assert to_utc(value) is None


def test_seconds() -> None:
    assert to_utc(1787652415.44, unit="s") == MOMENT


def test_dates() -> None:
    assert to_date("2027-05-01") == date(2027, 5, 1)
    assert to_date(1809129600000) == date(2027, 5, 1)
    assert to_date(None) is None


@pytest.mark.parametrize("value", [1787652415.44, 1787652415440, "1787652415.44", "1787652415440"])
def test_seconds_or_milliseconds_by_magnitude(value: object) -> None:
    assert read_utc(value, unit="auto") == MOMENT


@pytest.mark.parametrize(
    "value", ["junk", "yesterday", True, [1], {"a": 1}, 10**30, 1e300, float("nan"), "2026-13-45"]
)
def test_a_value_that_cannot_be_read_raises_in_the_strict_reader(value: object) -> None:
    with pytest.raises(UnreadableTime):
        read_utc(value, unit="auto")
    assert to_utc(value) is None  # the lenient reader: None


@pytest.mark.parametrize("value", [0, None, "", "  ", -62135596800000, "0001-01-01T00:00:00"])
def test_no_date_is_none_in_the_strict_reader_too(value: object) -> None:
    assert read_utc(value) is None and read_date(value) is None


def test_an_impossible_calendar_date_raises() -> None:
    with pytest.raises(UnreadableTime):
        read_date("2027-02-30")
    assert to_date("2027-02-30") is None
