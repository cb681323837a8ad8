"""Settings: a TOML file and the environment, validated into frozen models.

Precedence, lowest first: built-in defaults, the TOML file, the environment. Every key
``[section] key`` can be set as ``DATTO_ETL_SECTION_KEY``; the Datto connection also has the
fixed names ``DATTO_API_KEY``, ``DATTO_API_SECRET``, ``DATTO_PLATFORM`` and ``DATTO_API_URL``.
Secrets come from the environment only (or, for the accounts of ``[[accounts]]``, from
environment variables they name or a private secrets file). A bad configuration raises one
:class:`~etl.errors.ConfigError` listing every problem, one line each.

Several Datto accounts: each ``[[accounts]]`` entry names one (``name``, ``platform`` or
``api_url``, ``api_key_env`` and ``api_secret_env`` or ``secrets_file``); every other setting
is shared. Without any entry the one account of ``DATTO_API_KEY``/``DATTO_API_SECRET`` is used,
named ``default`` (:mod:`etl.accounts`).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from etl.errors import ConfigError


def _lower(value: Any) -> Any:
    """Names are accepted in any case (``Merlot``, ``debug``)."""
    return value.strip().lower() if isinstance(value, str) else value


PLATFORMS = ("pinotage", "merlot", "concord", "vidal", "zinfandel", "syrah")
DEFAULT_CONFIG_FILE = "datto-etl.toml"
FIXED_ENV = {
    "DATTO_API_KEY": ("datto", "api_key"),
    "DATTO_API_SECRET": ("datto", "api_secret"),
    "DATTO_PLATFORM": ("datto", "platform"),
    "DATTO_API_URL": ("datto", "api_url"),
    "DATTO_ETL_DATABASE_URL": ("database", "url"),
}
SECRET_KEYS = {("datto", "api_key"), ("datto", "api_secret")}
DEADLINE_FACTOR = 3  # default request deadline: a slow first byte, then time to read the body


class _Section(BaseModel):
    # inf and nan (TOML literals, or "inf" in the environment) are no duration, ratio or
    # count: refused with the key named, like any other bad value
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _origin_of(value: str | None) -> str | None:
    """An API origin from what people paste (``…/api`` allowed); ValueError when not one."""
    if value is None or value == "":
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{value!r} is not an http(s) origin like https://merlot-api.centrastage.net"
        )
    path = parts.path.rstrip("/")
    if path not in ("", "/api"):  # people paste the spec's server URL, which ends in /api
        raise ValueError(f"{value!r} must be an origin only, without a path")
    return f"{parts.scheme}://{parts.netloc}"


class DattoSettings(_Section):
    """How to reach the account: platform or explicit origin, credentials, paging."""

    platform: Literal["pinotage", "merlot", "concord", "vidal", "zinfandel", "syrah"] | None = None
    api_url: str | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    page_size: int = Field(250, ge=1, le=250)
    timeout_seconds: float = Field(60.0, gt=0)
    # the whole request, first byte to last (None: DEADLINE_FACTOR x timeout_seconds): a
    # server that trickles its body resets the read timeout with every byte
    request_deadline_seconds: float | None = Field(None, gt=0, allow_inf_nan=False)
    max_response_mb: float = Field(64.0, gt=0, allow_inf_nan=False)  # a bigger body: refused
    breaker_failures: int = Field(5, ge=1)  # failed requests in a row that stop a resource
    max_retries: int = Field(5, ge=0, le=20)

    @field_validator("platform", mode="before")
    @classmethod
    def _platform_case(cls, value: Any) -> Any:
        return _lower(value)

    @field_validator("api_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        return _origin_of(value)

    @field_validator("api_key", "api_secret")
    @classmethod
    def _strip(cls, value: SecretStr | None) -> SecretStr | None:
        # A secret pasted with a trailing newline fails at Datto like a wrong one.
        return SecretStr(value.get_secret_value().strip()) if value is not None else None

    @property
    def deadline_seconds(self) -> float:
        """The total deadline of one request: the setting, else a multiple of the timeout."""
        return self.request_deadline_seconds or DEADLINE_FACTOR * self.timeout_seconds

    @property
    def max_response_bytes(self) -> int:
        """The largest body accepted, in bytes (``max_response_mb`` MB of 10**6 bytes)."""
        return max(1, int(self.max_response_mb * 1_000_000))

    @property
    def origin(self) -> str:
        """The origin every request goes to; the explicit URL wins over the platform."""
        if self.api_url:
            return self.api_url
        return f"https://{self.platform or 'merlot'}-api.centrastage.net"


class DatabaseSettings(_Section):
    """Where the tables live (SQLAlchemy URL)."""

    url: str = "sqlite:///datto_rmm.db"


class BudgetSettings(_Section):
    """The share of the account-wide rate limit this tool may use."""

    account_limit: int = Field(600, ge=1)
    requests_per_minute: int = Field(300, ge=1)
    cutoff_ratio: float = Field(0.9, gt=0, le=1)
    window_seconds: float = Field(60.0, gt=0)
    concurrency: int = Field(8, ge=1, le=64)
    calibrate_every_seconds: float = Field(15.0, gt=0)
    block_seconds: float = Field(300.0, ge=0)
    low_priority_share: float = Field(0.8, gt=0, le=1)
    state_dir: str = ""


class SyncSettings(_Section):
    """What each resource fetches."""

    # Datto keeps 180 days of activity: the first sync takes all of it (the table is the archive)
    activity_logs_history_days: int = Field(180, ge=1)
    job_output_max_chars: int = Field(65_536, ge=0)  # stdout/stderr kept per component
    # A result still pending with no news in the activity log is asked again after this long
    # (0: every run). Expired and retired results leave no log entry; this finds them.
    job_recheck_hours: float = Field(6.0, ge=0)
    alerts_overlap_minutes: float = Field(10.0, ge=0)
    lock_wait_seconds: float = Field(60.0, ge=0)
    resources: list[str] = []


class LogSettings(_Section):
    """Logging level and format."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_lines: bool = False

    @field_validator("level", mode="before")
    @classmethod
    def _level_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class ScheduleSettings(_Section):
    """Cadences per resource: ``name = "every 5m"`` or a cron line ``"0 2 * * *"``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    time_scale: float = Field(1.0, gt=0)
    max_failures: int = Field(3, ge=1)  # `status` alarms after this many failures in a row
    stale_after: float = Field(3.0, ge=1)  # ... or a last good run this many cadences old
    parallel_accounts: int = Field(4, ge=1, le=64)  # accounts syncing at once in one process
    # a daemon looks for accounts nobody runs (a dead daemon's) this often, in seconds
    takeover_seconds: float = Field(30.0, gt=0)


class AccountSettings(_Section):
    """One Datto account of ``[[accounts]]``: where it is and where its secrets are."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    platform: Literal["pinotage", "merlot", "concord", "vidal", "zinfandel", "syrah"] | None = None
    api_url: str | None = None
    api_key_env: str | None = None
    api_secret_env: str | None = None
    secrets_file: str | None = None
    # filled by load_settings from the named variables or the secrets file, never the config
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None

    @field_validator("api_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        return _origin_of(value)


class HistorySettings(_Section):
    """What the ETL records of how devices, sites and software lists change (etl/history)."""

    enabled: bool = True
    device_daily_days: int | None = Field(None, ge=1)  # None: keep every day


class Settings(_Section):
    """Everything the tool needs, validated and frozen."""

    datto: DattoSettings = DattoSettings()
    database: DatabaseSettings = DatabaseSettings()
    budget: BudgetSettings = BudgetSettings()
    sync: SyncSettings = SyncSettings()
    log: LogSettings = LogSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    history: HistorySettings = HistorySettings()
    accounts: list[AccountSettings] = []

    def require_credentials(self) -> None:
        """Raise a ConfigError naming every missing piece needed to call the API."""
        problems = []
        if self.datto.api_key is None or not self.datto.api_key.get_secret_value():
            problems.append("datto.api_key: missing; set the DATTO_API_KEY environment variable")
        if self.datto.api_secret is None or not self.datto.api_secret.get_secret_value():
            problems.append(
                "datto.api_secret: missing; set the DATTO_API_SECRET environment variable"
            )
        if self.datto.platform is None and self.datto.api_url is None:
            problems.append(
                "datto.platform: missing; set DATTO_PLATFORM to one of "
                f"{', '.join(PLATFORMS)} (or DATTO_API_URL to an origin)"
            )
        if problems:
            raise ConfigError(problems)


def valid_keys(section: str) -> list[str]:
    """The keys ``[section]`` takes (schedule also takes resource names)."""
    if section == "accounts":  # a list of tables, checked entry by entry
        return []
    model = Settings.model_fields[section].annotation
    keys = list(model.model_fields) if isinstance(model, type) else []
    if section == "schedule":
        from etl.resources import REGISTRY  # the resource names are keys there too

        keys += sorted(REGISTRY)
    return keys


def closest(word: str, choices: list[str]) -> str:
    """``; did you mean X?`` for the closest of ``choices``, or ``""``."""
    found = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f"; did you mean {found[0]}?" if found else ""


def env_names() -> list[str]:
    """Every ``DATTO_ETL_SECTION_KEY`` name there is (for suggestions)."""
    return [
        f"DATTO_ETL_{section}_{key}".upper()
        for section in Settings.model_fields
        for key in valid_keys(section)
    ]


def _env_overrides(env: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Map environment variables onto ``{section: {key: value}}``."""
    out: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    sections = [name for name in Settings.model_fields if name != "accounts"]
    for name, value in env.items():
        if name in FIXED_ENV:
            section, key = FIXED_ENV[name]
        elif name.startswith("DATTO_ETL_") and name != "DATTO_ETL_CONFIG":
            rest = name[len("DATTO_ETL_") :].lower()
            section = next((s for s in sections if rest.startswith(s + "_")), "")
            if not section or (
                section != "schedule" and rest[len(section) + 1 :] not in valid_keys(section)
            ):
                near = difflib.get_close_matches(name, env_names(), n=1, cutoff=0.6)
                hint = f"did you mean {near[0]}?" if near else f"sections: {', '.join(sections)}"
                problems.append(f"environment variable {name}: no such setting; {hint}")
                continue
            key = rest[len(section) + 1 :]
        else:
            continue
        if value == "" and name in FIXED_ENV:
            continue  # an exported-but-empty variable means "not set"
        parsed: Any = value
        if key == "resources":
            parsed = [v.strip() for v in value.split(",") if v.strip()]
        out.setdefault(section, {})[key] = parsed
    return out, problems


def _where(source: str | None, index: int, entry: Any) -> str:
    """``datto-etl.toml: accounts[2] (emea)``: which file and which entry a problem is in."""
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"{source or 'config'}: accounts[{index}]" + (f" ({name})" if name else "")


def _secrets_file(path: Path) -> tuple[dict[str, Any], str | None]:
    """A private TOML file with ``api_key`` and ``api_secret``; (values, problem)."""
    try:
        if path.stat().st_mode & 0o077:
            return {}, f"{path} is readable by other users: chmod 600 {path}"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, f"{path} not found"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{path} cannot be read as TOML: {exc}"
    missing = [k for k in ("api_key", "api_secret") if not str(data.get(k) or "").strip()]
    if missing:
        return {}, f'{path} has no {" and no ".join(missing)} (write api_key = "…")'
    return data, None


def _account_secrets(entries: Any, source: str | None, env: Mapping[str, str]) -> list[str]:
    """Fill each ``[[accounts]]`` entry's key and secret from the variables or file it names."""
    if not isinstance(entries, list):
        return [f"{source or 'config'}: accounts: must be a list of tables ([[accounts]])"]
    problems: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue  # pydantic names it
        where = _where(source, index, entry)
        for key in ("api_key", "api_secret"):
            if key in entry:
                problems.append(
                    f"{where}.{key}: secrets do not belong in the config file; name the "
                    f"environment variable holding it in {key}_env, or use secrets_file"
                )
                del entry[key]
        file = entry.get("secrets_file")
        if file:
            if entry.get("api_key_env") or entry.get("api_secret_env"):
                problems.append(
                    f"{where}: give secrets_file or api_key_env/api_secret_env, not both"
                )
            values, problem = _secrets_file(Path(str(file)).expanduser())
            if problem:
                problems.append(f"{where}.secrets_file: {problem}")
            entry.update({k: str(values[k]) for k in ("api_key", "api_secret") if k in values})
            continue
        for key in ("api_key", "api_secret"):
            var = entry.get(f"{key}_env")
            if not var:
                problems.append(
                    f"{where}.{key}_env: missing; name the environment variable holding the "
                    f"{key.replace('api_', 'API ')} (or give secrets_file)"
                )
            elif not env.get(str(var), "").strip():
                problems.append(f"{where}.{key}_env: the environment variable {var} is not set")
            else:
                entry[key] = env[str(var)]
    return problems


def _check_accounts(settings: Settings, source: str | None) -> list[str]:
    """Problems across entries: a name used twice, an account with no platform or URL."""
    problems: list[str] = []
    seen: set[str] = set()
    for index, account in enumerate(settings.accounts):
        where = _where(source, index, {"name": account.name})
        if account.name in seen:
            problems.append(f"{where}.name: {account.name!r} is used by another account")
        seen.add(account.name)
        if account.platform is None and account.api_url is None:
            problems.append(
                f"{where}.platform: missing; one of {', '.join(PLATFORMS)} (or api_url)"
            )
    return problems


def _describe(
    loc: tuple[Any, ...],
    msg: str,
    value: Any,
    data: Mapping[str, Any],
    source: str | None,
    from_env: set[tuple[str, str]],
    kind: str = "",
) -> str:
    """One line: the key, what is wrong, the value (never a secret's), and where it was set.

    An unknown key (only a file can hold one: the environment's are refused before) names
    the file and the closest valid key.
    """
    if kind == "extra_forbidden" and loc and loc[0] != "accounts":
        keys = tuple(str(p) for p in loc)
        if len(keys) == 1:
            hint = closest(keys[0], [k for k in Settings.model_fields if k != "accounts"])
            return f"config file {source}: [{keys[0]}] is not a section{hint}"
        hint = closest(keys[-1], valid_keys(keys[0]))
        return f"config file {source}: [{keys[0]}] {keys[-1]}: no such key{hint}"
    if loc and loc[0] == "accounts" and len(loc) > 1 and isinstance(loc[1], int):
        entries = data.get("accounts") or []
        entry = entries[loc[1]] if loc[1] < len(entries) else None
        rest = ".".join(str(p) for p in loc[2:])
        shown = "" if loc[2:3] in (("api_key",), ("api_secret",)) else f"; got {value!r}"
        return f"{_where(source, loc[1], entry)}{'.' + rest if rest else ''}: {msg}{shown}"
    path = ".".join(str(p) for p in loc)
    where = f" (environment: DATTO_ETL_{'_'.join(str(p) for p in loc).upper()})"
    for env_name, target in FIXED_ENV.items():
        if tuple(loc) == target:
            where = f" (environment: {env_name})"
    if tuple(loc[:2]) not in from_env and source is not None:
        where = f" (config file {source})"
    shown = "" if tuple(loc[:2]) in SECRET_KEYS else f"; got {value!r}"
    return f"{path}: {msg}{shown}{where}"


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file (if any) and the environment into :class:`Settings`.

    ``path`` None means ``$DATTO_ETL_CONFIG`` or ``./datto-etl.toml`` when present;
    with neither, the environment alone configures the tool.
    """
    env = os.environ if env is None else env
    problems: list[str] = []
    data: dict[str, Any] = {}
    chosen = path or env.get("DATTO_ETL_CONFIG")
    if chosen is None and Path(DEFAULT_CONFIG_FILE).is_file():
        chosen = DEFAULT_CONFIG_FILE
    if chosen is not None:
        try:
            data = tomllib.loads(Path(chosen).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                [f"config file {chosen}: not found; pass an existing --config"]
            ) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError([f"config file {chosen}: cannot be read as TOML: {exc}"]) from None
        for section, key in sorted(SECRET_KEYS):
            if isinstance(data.get(section), dict) and key in data[section]:
                problems.append(
                    f"{section}.{key}: secrets do not belong in the config file; remove it and "
                    f"set {'DATTO_API_KEY' if key == 'api_key' else 'DATTO_API_SECRET'} instead"
                )
                del data[section][key]
    source = str(chosen) if chosen is not None else None
    if "accounts" in data:
        problems += _account_secrets(data["accounts"], source, env)
    overrides, env_problems = _env_overrides(env)
    problems += env_problems
    for section, values in overrides.items():
        current = data.get(section)
        data[section] = {**(current if isinstance(current, dict) else {}), **values}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            from_env = {(s, k) for s, values in overrides.items() for k in values}
            problems.append(
                _describe(
                    err["loc"], err["msg"], err.get("input"), data, source, from_env, err["type"]
                )
            )
        raise ConfigError(problems) from None
    problems += _check_accounts(settings, source)
    if problems:
        raise ConfigError(problems)
    return settings
