"""datto-rmm-etl: keep a copy of a Datto RMM account in normalized SQL tables."""

__version__ = "0.1.0"
