"""Resources, one module each; importing this package registers them and every table."""

import etl.db.state  # noqa: F401  (sync_runs, sync_state)
from etl.resources import alerts, devices, sites  # noqa: F401
from etl.resources.base import REGISTRY, Resource

__all__ = ["REGISTRY", "Resource"]
