"""Configuration: TOML + environment, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.config import load_settings
from etl.errors import ConfigError


def test_environment_alone_is_enough() -> None:
    s = load_settings(
        env={"DATTO_API_KEY": "k", "DATTO_API_SECRET": "s", "DATTO_PLATFORM": "vidal"}
    )
    s.require_credentials()
    assert s.datto.origin == "https://vidal-api.centrastage.net"
    assert s.database.url == "sqlite:///datto_rmm.db"


def test_api_url_wins_over_platform() -> None:
    s = load_settings(env={"DATTO_PLATFORM": "syrah", "DATTO_API_URL": "http://127.0.0.1:9/api/"})
    assert s.datto.origin == "http://127.0.0.1:9"


def test_every_problem_at_once(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[datto]\nplatform = "merlo"\napi_secret = "x"\npage_size = 900\n'
        "[budget]\nrequests_per_minute = 0\n[nope]\na = 1\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={"DATTO_ETL_BUDGET_CONCURRENCY": "many"})
    text = "\n".join(exc.value.problems)
    for needle in (
        "datto.platform",
        "datto.api_secret",
        "datto.page_size",
        "budget.requests_per_minute",
        "budget.concurrency",
        "nope",
    ):
        assert needle in text
    assert len(exc.value.problems) >= 6
    assert all("\n" not in p for p in exc.value.problems)


def test_missing_credentials_are_named() -> None:
    s = load_settings(env={})
    with pytest.raises(ConfigError) as exc:
        s.require_credentials()
    assert any("DATTO_API_KEY" in p for p in exc.value.problems)
    assert any("DATTO_API_SECRET" in p for p in exc.value.problems)


def test_generic_env_names() -> None:
    s = load_settings(
        env={
            "DATTO_ETL_BUDGET_REQUESTS_PER_MINUTE": "120",
            "DATTO_ETL_DATABASE_URL": "postgresql://u@h/db",
        }
    )
    assert s.budget.requests_per_minute == 120
    assert s.database.url == "postgresql://u@h/db"


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    load_settings(example, env={})


def test_a_file_mistake_names_the_file_the_key_and_the_closest_key(tmp_path: Path) -> None:
    cfg = tmp_path / "datto-etl.toml"
    cfg.write_text(
        "[bugdet]\nrequests_per_minute = 100\n"
        '[budget]\nrequest_per_minute = 100\nconcurrency = "many"\n'
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={"DATTO_ETL_BUDGET_CONCURENCY": "2"})
    problems = exc.value.problems
    assert f"config file {cfg}: [bugdet] is not a section; did you mean budget?" in problems
    assert (
        f"config file {cfg}: [budget] request_per_minute: no such key; "
        "did you mean requests_per_minute?"
    ) in problems
    assert any(p.endswith(f"got 'many' (config file {cfg})") for p in problems)
    assert (
        "environment variable DATTO_ETL_BUDGET_CONCURENCY: no such setting; "
        "did you mean DATTO_ETL_BUDGET_CONCURRENCY?"
    ) in problems
    assert not any("DATTO_ETL_BUGDET" in p for p in problems)  # the file's key, not the env's


def test_names_and_booleans_in_any_case() -> None:
    s = load_settings(
        env={
            "DATTO_PLATFORM": "Merlot",
            "DATTO_ETL_LOG_LEVEL": "debug",
            "DATTO_ETL_LOG_JSON_LINES": "TRUE",
        }
    )
    assert s.datto.platform == "merlot" and s.datto.origin == "https://merlot-api.centrastage.net"
    assert s.log.level == "DEBUG" and s.log.json_lines is True


@pytest.mark.parametrize(
    ("section", "key", "literal"),
    [
        ("budget", "window_seconds", "inf"),
        ("budget", "cutoff_ratio", "nan"),
        ("datto", "timeout_seconds", "+inf"),
        ("sync", "alerts_overlap_minutes", "nan"),
        ("sync", "lock_wait_seconds", "inf"),
        ("schedule", "time_scale", "inf"),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_key_and_the_file(
    tmp_path: Path, section: str, key: str, literal: str
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[{section}]\n{key} = {literal}\n")  # TOML's own inf/nan literals
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={})
    (line,) = exc.value.problems
    assert line.startswith(f"{section}.{key}: ") and "finite" in line
    assert f"config file {cfg}" in line and "\n" not in line

    env_name = f"DATTO_ETL_{section.upper()}_{key.upper()}"
    with pytest.raises(ConfigError) as exc:
        load_settings(None, env={env_name: literal})
    (line,) = exc.value.problems
    assert line.startswith(f"{section}.{key}: ") and f"environment: {env_name}" in line


def test_an_endless_cadence_is_refused() -> None:
    from etl.cadence import parse_cadence

    with pytest.raises(ValueError, match="finite"):
        parse_cadence("every " + "9" * 400 + "d")
