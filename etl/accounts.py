"""Several Datto accounts in one configuration, each its own world.

An :class:`Account` is a name and the full :class:`~etl.config.Settings` of one account: the
shared settings with that account's ``[datto]`` connection (platform or URL, key, secret).
Everything keyed by the connection is then the account's own: its rate budget and budget
memory (:mod:`etl.api.memory`), its run lock (:mod:`etl.lock`), its ``sync_runs`` and
cursors (by the account uid Datto answers). :func:`sync_accounts` syncs several at once,
bounded by ``schedule.parallel_accounts``: one account failing (refused credentials, an API
that is down, its IP blocked) is reported for that account and never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.config import Settings
from etl.errors import ConfigError, CredentialsError, DattoETLError
from etl.log import redact

if TYPE_CHECKING:
    from etl.sync import SyncReport

log = logging.getLogger(__name__)
DEFAULT = "default"  # the name of the one account of DATTO_API_KEY/DATTO_API_SECRET


@dataclass(frozen=True)
class Account:
    """One configured Datto account: its name and its settings."""

    name: str
    settings: Settings

    @property
    def origin(self) -> str:
        """The API origin (platform) it is on."""
        return self.settings.datto.origin


def describe_error(account: Account, exc: BaseException) -> str:
    """The error's first line, redacted; refused credentials of a ``[[accounts]]`` entry name
    where that account's secrets come from (the message speaks of ``DATTO_API_KEY``)."""
    line = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    entry = next((e for e in account.settings.accounts if e.name == account.name), None)
    if isinstance(exc, CredentialsError) and entry is not None:
        where = (
            f"its secrets_file {entry.secrets_file}"
            if entry.secrets_file
            else f"the variables {entry.api_key_env} and {entry.api_secret_env}"
        )
        line += f" (account {account.name} takes them from {where})"
    return line


def accounts_of(settings: Settings) -> list[Account]:
    """Every configured account, in config order (``default`` alone without ``[[accounts]]``)."""
    if not settings.accounts:
        return [Account(DEFAULT, settings)]
    out = []
    for entry in settings.accounts:
        datto = settings.datto.model_copy(
            update={
                "platform": entry.platform,
                "api_url": entry.api_url,
                "api_key": entry.api_key,
                "api_secret": entry.api_secret,
            }
        )
        out.append(Account(entry.name, settings.model_copy(update={"datto": datto})))
    return out


def select_accounts(settings: Settings, name: str | None = None) -> list[Account]:
    """The account called ``name`` (all when None); an unknown name is a ConfigError."""
    every = accounts_of(settings)
    if name is None:
        return every
    chosen = [a for a in every if a.name == name]
    if not chosen:
        raise ConfigError(
            [f"--account {name!r}: no such account; choose from {', '.join(a.name for a in every)}"]
        )
    return chosen


@dataclass
class AccountOutcome:
    """How one account's sync ended: its report, or the error that stopped it."""

    account: str
    report: SyncReport | None = None
    error: DattoETLError | None = None

    @property
    def exit_code(self) -> int:
        """0 when every resource ended ok; the error's code; 1 for a failed resource."""
        if self.error is not None:
            return self.error.exit_code or 1
        return 0 if self.report is not None and self.report.ok else 1


def combined_exit_code(outcomes: list[AccountOutcome]) -> int:
    """0 when all went well; one failing code when all failures share it; else 1."""
    codes = {o.exit_code for o in outcomes} - {0}
    return codes.pop() if len(codes) == 1 else (1 if codes else 0)


def sync_accounts(
    accounts: list[Account],
    sync_one: Callable[[Account], SyncReport],
    *,
    parallel: int,
    stop: threading.Event,
) -> list[AccountOutcome]:
    """Run ``sync_one`` for every account, ``parallel`` at a time; outcomes in ``accounts`` order.

    A foreseen error of one account (credentials, IP block, lock held, database) is its
    outcome; the others go on. Once ``stop`` is set, accounts not yet started are skipped
    (no report, no error: exit code 1).
    """

    def one(account: Account) -> AccountOutcome:
        if stop.is_set():
            return AccountOutcome(account.name, error=None)
        try:
            return AccountOutcome(account.name, report=sync_one(account))
        except ConfigError:
            raise
        except DattoETLError as exc:
            log.error("account %s: %s", account.name, describe_error(account, exc))
            return AccountOutcome(account.name, error=exc)

    if len(accounts) == 1:
        outcomes = [one(accounts[0])]
    else:
        with ThreadPoolExecutor(min(parallel, len(accounts)), "account") as pool:
            outcomes = list(pool.map(one, accounts))
    return outcomes


__all__ = [
    "DEFAULT",
    "Account",
    "AccountOutcome",
    "accounts_of",
    "combined_exit_code",
    "describe_error",
    "select_accounts",
    "sync_accounts",
]
