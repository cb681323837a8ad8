"""Resources, one module each: importing this package imports every module in it, which
registers each resource (:data:`REGISTRY`) and its tables. No list to keep by hand: a new
resource module is found by being here."""

import importlib
import pkgutil

import etl.db.state  # noqa: F401  (sync_runs, sync_state)
from etl.resources.base import REGISTRY, Resource

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Resource"]
