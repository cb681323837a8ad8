"""Settings: a TOML file and the environment, validated into frozen models.

Precedence, lowest first: built-in defaults, the TOML file, the environment. Every key
``[section] key`` can be set as ``DATTO_ETL_SECTION_KEY``; the Datto connection also has the
fixed names ``DATTO_API_KEY``, ``DATTO_API_SECRET``, ``DATTO_PLATFORM`` and ``DATTO_API_URL``.
Secrets come from the environment only. A bad configuration raises one
:class:`~etl.errors.ConfigError` listing every problem, one line each.
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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DattoSettings(_Section):
    """How to reach the account: platform or explicit origin, credentials, paging."""

    platform: Literal["pinotage", "merlot", "concord", "vidal", "zinfandel", "syrah"] | None = None
    api_url: str | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    page_size: int = Field(250, ge=1, le=250)
    timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(5, ge=0, le=20)

    @field_validator("platform", mode="before")
    @classmethod
    def _platform_case(cls, value: Any) -> Any:
        return _lower(value)

    @field_validator("api_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
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

    @field_validator("api_key", "api_secret")
    @classmethod
    def _strip(cls, value: SecretStr | None) -> SecretStr | None:
        # A secret pasted with a trailing newline fails at Datto like a wrong one.
        return SecretStr(value.get_secret_value().strip()) if value is not None else None

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

    activity_logs_history_days: int = Field(90, ge=1)
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


class Settings(_Section):
    """Everything the tool needs, validated and frozen."""

    datto: DattoSettings = DattoSettings()
    database: DatabaseSettings = DatabaseSettings()
    budget: BudgetSettings = BudgetSettings()
    sync: SyncSettings = SyncSettings()
    log: LogSettings = LogSettings()
    schedule: ScheduleSettings = ScheduleSettings()

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
    sections = {name: model for name, model in Settings.model_fields.items()}
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


def _describe(
    loc: tuple[Any, ...], msg: str, value: Any, kind: str, from_env: set[str], file: str | None
) -> str:
    """One line for one validation problem: which key, where it was set, and the fix."""
    loc = tuple(str(p) for p in loc)
    path = ".".join(loc)
    env_name = f"DATTO_ETL_{'_'.join(loc).upper()}"
    for fixed, target in FIXED_ENV.items():
        if loc == target:
            env_name = fixed
    in_env = env_name in from_env
    if kind == "extra_forbidden":  # an unknown key: only a file can hold one by now
        if len(loc) == 1:
            hint = closest(loc[0], list(Settings.model_fields))
            return f"config file {file}: [{loc[0]}] is not a section{hint}"
        hint = closest(loc[-1], valid_keys(loc[0]))
        return f"config file {file}: [{loc[0]}] {loc[-1]}: no such key{hint}"
    where = f" (environment: {env_name})" if in_env or file is None else f" (config file {file})"
    shown = "" if loc[:2] in SECRET_KEYS else f"; got {value!r}"
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
    overrides, env_problems = _env_overrides(env)
    problems += env_problems
    for section, values in overrides.items():
        current = data.get(section)
        data[section] = {**(current if isinstance(current, dict) else {}), **values}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        from_env = set(env)
        file = str(chosen) if chosen is not None else None
        for err in exc.errors():
            problems.append(
                _describe(err["loc"], err["msg"], err.get("input"), err["type"], from_env, file)
            )
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return settings
