"""A simulated Datto RMM account over real HTTP on loopback: the ETL's stand-in for Datto.

``Simulator(devices=2000).start()`` serves a seeded account on a free 127.0.0.1 port; its
``url`` goes into ``DATTO_API_URL``. One module per resource holds that resource's data and
routes (``generate(sim)`` and ``register(router)``); :func:`modules` lists them in order.
"""

from __future__ import annotations

from types import ModuleType


def modules() -> list[ModuleType]:
    """The per-resource modules, in generation order (sites before devices, …)."""
    from datto_sim import (
        account,
        activity,
        alerts,
        audits,
        bad_items,
        components,
        devices,
        dnet,
        faults,
        filters,
        hostile,
        jobs,
        network_interfaces,
        ratelimit,
        site_settings,
        sites,
        users,
        variables,
    )

    return [
        *(account, sites, devices, users, audits, variables, site_settings, components),
        *(filters, network_interfaces, activity, jobs, dnet, alerts),
        *(ratelimit, faults, hostile, bad_items),
    ]


from datto_sim.core import SimSettings, Simulator  # noqa: E402

__all__ = ["SimSettings", "Simulator", "modules"]
