"""Database side: schema (SQLAlchemy Core), upserts, sync state, migrations."""
