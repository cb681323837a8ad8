"""Resources, one module each; importing this package registers them and every table."""

import etl.db.state  # noqa: F401  (sync_runs, sync_state)
from etl.resources import (  # noqa: F401  (each module registers its resource and tables)
    account,
    activity_logs,
    alerts,
    audits,
    components,
    devices,
    filters,
    network_interfaces,
    site_settings,
    sites,
    software,
    users,
    variables,
)
from etl.resources.base import REGISTRY, Resource

__all__ = ["REGISTRY", "Resource"]
