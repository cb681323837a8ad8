"""Command-line words people write that click would refuse: ``--debug true``."""

from __future__ import annotations

BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True}
BOOL_WORDS |= {"false": False, "no": False, "off": False, "0": False}


def flag_values(argv: list[str]) -> list[str]:
    """``--debug true`` / ``--debug=False`` (any case) as the flag they mean.

    Flags take no value on the command line; people write one anyway.
    """
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        name, eq, value = arg.partition("=")
        if name == "--debug" and eq:
            if BOOL_WORDS.get(value.strip().lower()) is None:
                out.append(arg)  # let the parser say what is wrong
            elif BOOL_WORDS[value.strip().lower()]:
                out.append(name)
            continue
        out.append(arg)
        if arg == "--debug":
            following = next(args, None)
            if following is not None and following.lower() in BOOL_WORDS:
                if not BOOL_WORDS[following.lower()]:
                    out.pop()
            elif following is not None:
                out.append(following)
    return out
