"""The simulator finds its per-resource modules by itself, in generation order."""

from __future__ import annotations

from datto_sim import modules


def test_modules_are_discovered_in_generation_order() -> None:
    found = [m.__name__.rsplit(".", 1)[-1] for m in modules()]
    assert {"account", "sites", "devices", "audits", "alerts", "ratelimit", "faults"} <= set(found)
    assert "core" not in found and "server" not in found  # not resources: no generate/register
    position = found.index
    # the seeded data depends on it: sites hold devices, devices have audits and raise alerts
    assert position("sites") < position("devices") < position("audits")
    assert position("devices") < position("alerts")
    assert position("activity") < position("jobs")  # job entries join the activity log
    # middlewares go on last, the rate limiter in front of the fault injectors
    assert found[-4:] == ["ratelimit", "faults", "hostile", "bad_items"]
