"""``python -m datto_sim``: the simulator on its own (see :mod:`datto_sim.standalone`)."""

from __future__ import annotations

if __name__ == "__main__":  # guarded: importing this module serves nothing
    from datto_sim.standalone import main

    raise SystemExit(main())
