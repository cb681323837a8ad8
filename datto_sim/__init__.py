"""A simulated Datto RMM account over real HTTP on loopback: the ETL's stand-in for Datto.

``Simulator(devices=2000).start()`` serves a seeded account on a free 127.0.0.1 port; its
``url`` goes into ``DATTO_API_URL``. One module per resource holds that resource's data and
routes (``generate(sim)`` and ``register(router)``); :func:`modules` finds them, so a new
resource is one new module here. Its ``ORDER`` places it in generation order (the seeded
data depends on it: sites before devices, devices before their audits and alerts).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

DEFAULT_ORDER = 500  # a module without ORDER: after the resources above, before middlewares


def modules() -> list[ModuleType]:
    """The per-resource modules (those with ``generate`` and ``register``), by ``ORDER``."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "generate", None)) and callable(
            getattr(module, "register", None)
        ):
            found.append(module)
    return sorted(found, key=lambda m: (getattr(m, "ORDER", DEFAULT_ORDER), m.__name__))


from datto_sim.core import SimSettings, Simulator  # noqa: E402

__all__ = ["SimSettings", "Simulator", "modules"]
