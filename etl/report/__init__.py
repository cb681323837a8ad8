"""Reporting: the KPI views (SQL per dialect), their reference text, and ``datto-etl report``.

Light on purpose: Alembic's env.py and the migrations import :mod:`etl.report.views`, so
nothing here pulls in Jinja2 or plotly; :mod:`etl.report.render` does, when a report is built.
"""
