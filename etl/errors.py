"""The one error tree of datto-rmm-etl.

Every error the tool raises on purpose derives from :class:`DattoETLError`, carries a
one-line message that names the fix, and an ``exit_code`` for the CLI::

    DattoETLError                      exit 1 unless said otherwise
    ├── ConfigError                    exit 2: every problem of the settings, one line each
    ├── DatabaseError                  the database cannot be reached or a migration failed
    │   ├── DatabaseURLError           database.url is malformed, names an unknown driver,
    │   │                              or is an in-memory SQLite database (nothing kept)
    │   └── DatabaseMissingError       `status` finds no SQLite file where database.url says
    ├── StorageError                   where data is kept refuses: disk full, read-only file,
    │                                  an unusable path (database or state dir), a standby
    ├── RunLockedError                 exit 5: another process is syncing the same account
    │   └── RunLockLostError           exit 5: the run lock vanished mid-run (PostgreSQL
    │                                  session ended) and another holder has it now
    ├── IncompleteRunError             some owners (sites, devices) could not be fetched this
    │                                  run: the rest is saved, they are asked again next run
    ├── ReportError                    a report cannot be made as asked (unknown site, no views)
    └── APIError                       anything the Datto API answered, or failed to
        ├── RetriableAPIError          transient: retried with backoff, then fails the resource
        │   ├── ServerError            500/502/503/504
        │   ├── TransportError         timeout, refused or dropped connection, or a request
        │   │                          past its total deadline (a trickling server)
        │   ├── MalformedResponseError truncated or non-JSON body where JSON was due
        │   └── RateLimitedError       429: wait (Retry-After or 60 s), then go on slower
        ├── SkippableAPIError          one item refused: per-item loops log it and pass over it
        │   ├── NotFoundError          404: the item is gone (or was never there)
        │   └── BadRequestError        400: e.g. an audit asked of the wrong device class
        └── FatalAPIError              retrying cannot help
            ├── CredentialsError       exit 3: the token endpoint refused the key/secret
            ├── IPBlockedError         exit 4: 403 after a 429, the edge blocks this IP
            ├── PermissionDeniedError  403 with no 429 before it
            ├── UnsafeURLError         a nextPageUrl leading off the configured origin
            ├── ResponseTooLargeError  a body past datto.max_response_mb, or a page holding
            │                          far more items than asked: refused, memory bounded
            └── CircuitOpenError       one endpoint family failed breaker_failures times in a
                                       row: its resource stops (the others go on)

Signals are not errors and live outside the tree::

    StopRequested                      a signal (SIGINT/SIGTERM) asked the run to stop

Messages never contain the API key, secret or token.
"""

from __future__ import annotations


class DattoETLError(Exception):
    """Root of every error the tool raises on purpose."""

    exit_code = 1


class ConfigError(DattoETLError):
    """The settings are invalid; ``problems`` lists every one of them."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class DatabaseError(DattoETLError):
    """The database cannot be reached, or its schema cannot be brought up to date."""


class DatabaseURLError(DatabaseError):
    """``database.url`` cannot work: malformed, unknown dialect or driver, or in memory."""


class DatabaseMissingError(DatabaseError):
    """A read-only command found no database file: nothing was created."""


class StorageError(DattoETLError):
    """Where data is kept refuses: disk full, read-only, a path that cannot be used…"""


class RunLockedError(DattoETLError):
    """Another process holds the sync lock of this account."""

    exit_code = 5


class RunLockLostError(RunLockedError):
    """The run lock was lost mid-run and could not be taken back; the run stopped."""


class IncompleteRunError(DattoETLError):
    """A resource saved what it could, but ``missed`` of its ``total`` owners failed.

    Not retriable as such (each owner was already retried); the run is recorded as failed so
    the status and the exit code say something is missing, and the next run asks again.
    """

    def __init__(self, message: str, *, missed: int, total: int) -> None:
        self.missed = missed
        self.total = total
        super().__init__(message)


class ReportError(DattoETLError):
    """``datto-etl report`` cannot be made as asked: an unknown site, a database without views."""


class APIError(DattoETLError):
    """The Datto API answered with an error, or did not answer usefully."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        self.status = status
        self.url = url
        super().__init__(message)


class RetriableAPIError(APIError):
    """A fault that may pass: retried with capped, jittered backoff."""


class ServerError(RetriableAPIError):
    """The API answered 5xx."""


class TransportError(RetriableAPIError):
    """Timeout, refused or dropped connection."""


class MalformedResponseError(RetriableAPIError):
    """A body that should be JSON was truncated, empty or not JSON."""


class RateLimitedError(RetriableAPIError):
    """429: the account-wide window is full."""

    def __init__(self, message: str, *, retry_after: float | None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class FatalAPIError(APIError):
    """Retrying cannot help."""


class CredentialsError(FatalAPIError):
    """Datto refused the API key or secret."""

    exit_code = 3


class IPBlockedError(FatalAPIError):
    """The edge blocks this IP after a 429 was ignored: no call before ``until``."""

    exit_code = 4

    def __init__(self, message: str, *, until: float | None = None, **kw: object) -> None:
        self.until = until
        super().__init__(message, **kw)  # type: ignore[arg-type]


class SkippableAPIError(APIError):
    """The API refused one item; a loop over many items logs it and passes over it."""


class PermissionDeniedError(FatalAPIError):
    """403 with no 429 before it: the API user lacks rights."""


class NotFoundError(SkippableAPIError):
    """404: the item is gone."""


class BadRequestError(SkippableAPIError):
    """400: the request does not fit the item (e.g. wrong device class)."""


class UnsafeURLError(FatalAPIError):
    """A nextPageUrl points off the configured origin; nothing was sent there."""


class ResponseTooLargeError(FatalAPIError):
    """A body larger than ``datto.max_response_mb`` (reading stopped there), or a page with
    far more items than ``max`` asked for."""


class CircuitOpenError(FatalAPIError):
    """An endpoint family failed too often in a row: its resource stops calling it this run."""


class StopRequested(Exception):  # a signal, not an error: outside the tree
    """A signal asked the run to stop after the page in hand (not a failure)."""
