"""``python -m etl`` is ``datto-etl``."""

from etl.cli import main

main()
