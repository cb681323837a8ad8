"""Several accounts in one database: configuration, colliding ids, and failures kept apart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, Table, select

from datto_sim import Simulator
from datto_sim import components as sim_components
from datto_sim import filters as sim_filters
from datto_sim import users as sim_users
from datto_sim import variables as sim_variables
from etl.accounts import accounts_of, select_accounts
from etl.api.memory import block_origin, budget_for
from etl.config import BudgetSettings, DattoSettings, load_settings
from etl.errors import ConfigError
from etl.resources.components import components
from etl.resources.devices import devices
from etl.resources.filters import filters
from etl.resources.users import users
from etl.resources.variables import account_variables
from etl.sync import run_sync
from tests.accounts_helpers import simulators, write_config
from tests.test_cli import run as etl

RESOURCES = ["sites", "devices", "filters", "users", "components", "account_variables"]


def test_accounts_from_env_names_and_a_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "apac.secrets"
    secrets.write_text('api_key = "k2"\napi_secret = "s2"\n')
    secrets.chmod(0o600)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[accounts]]\nname = "emea"\nplatform = "vidal"\n'
        'api_key_env = "EMEA_KEY"\napi_secret_env = "EMEA_SECRET"\n'
        '[[accounts]]\nname = "apac"\napi_url = "http://127.0.0.1:9/api"\n'
        f'secrets_file = "{secrets}"\n'
    )
    settings = load_settings(cfg, env={"EMEA_KEY": "k1", "EMEA_SECRET": "s1"})
    emea, apac = accounts_of(settings)
    assert (emea.name, emea.origin) == ("emea", "https://vidal-api.centrastage.net")
    assert (apac.name, apac.origin) == ("apac", "http://127.0.0.1:9")
    assert emea.settings.datto.api_key is not None
    assert emea.settings.datto.api_key.get_secret_value() == "k1"
    assert apac.settings.datto.api_secret is not None
    assert apac.settings.datto.api_secret.get_secret_value() == "s2"
    assert [a.name for a in select_accounts(settings, "apac")] == ["apac"]
    with pytest.raises(ConfigError) as exc:
        select_accounts(settings, "nope")
    assert exc.value.problems == ["--account 'nope': no such account; choose from emea, apac"]


def test_the_environment_account_is_named_default() -> None:
    settings = load_settings(env={"DATTO_API_KEY": "k", "DATTO_API_SECRET": "s"})
    [only] = accounts_of(settings)
    assert only.name == "default" and only.settings is settings


def test_every_account_problem_names_the_file_and_the_key(tmp_path: Path) -> None:
    loose = tmp_path / "loose.secrets"
    loose.write_text('api_key = "k"\napi_secret = "s"\n')
    loose.chmod(0o644)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[accounts]]\nname = "a"\nplatform = "merlo"\napi_key = "oops"\n'
        'api_key_env = "A_KEY"\napi_secret_env = "A_SECRET"\n'
        '[[accounts]]\nname = "a"\napi_key_env = "B_KEY"\n'
        f'[[accounts]]\nname = "c d"\nplatform = "syrah"\nsecrets_file = "{loose}"\n'
        f'[[accounts]]\nname = "e"\nplatform = "syrah"\nsecrets_file = "{tmp_path / "none"}"\n'
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={"A_KEY": "k"})
    problems = exc.value.problems
    text = "\n".join(problems)
    assert all(p.startswith(f"{cfg}: accounts[") for p in problems), text
    for needle in (
        "accounts[0] (a).api_key: secrets do not belong in the config file",
        "accounts[0] (a).api_secret_env: the environment variable A_SECRET is not set",
        "accounts[0] (a).platform: Input should be",
        "accounts[1] (a).api_secret_env: missing",
        "accounts[1] (a).api_key_env: the environment variable B_KEY is not set",
        "accounts[2] (c d).secrets_file: ",
        "is readable by other users: chmod 600",
        "accounts[2] (c d).name: String should match pattern",
        "accounts[3] (e).secrets_file: ",
    ):
        assert needle in text, text
    assert "oops" not in text


def test_simulators_share_ids_on_purpose() -> None:
    one, two = (
        Simulator(seed=1, id_seed=3, devices=5, sites=1),
        Simulator(seed=2, id_seed=3, devices=5, sites=1),
    )
    assert one.account_uid != two.account_uid
    for pick in (
        lambda s: [u["username"] for u in sim_users.users(s)],
        lambda s: [c["uid"] for c in sim_components.components(s)],
        lambda s: [f["id"] for f in sim_filters.filters(s, "rmm_default")],
        lambda s: [v["id"] for v in sim_variables.account_variables(s)],
    ):
        assert pick(one) == pick(two)
    assert [c["name"] for c in sim_components.components(one)] == [
        c["name"] for c in sim_components.components(Simulator(seed=1, devices=5, sites=1))
    ]  # the rest of the seeded account is as without the knob


def stored(engine: Engine, table: Table, uid: str, *columns: str) -> set[tuple[Any, ...]]:
    """One account's rows of ``table`` (the chosen columns)."""
    with engine.connect() as conn:
        query = select(*(table.c[c] for c in columns)).where(table.c.account_uid == uid)
        return {tuple(r) for r in conn.execute(query)}


def check_mirrors(engine: Engine, sim: Simulator) -> None:
    """The account's rows equal its own simulator's, table by table."""
    uid = sim.account_uid
    every_filter = sim_filters.filters(sim, "rmm_default") + sim_filters.filters(sim, "custom")
    assert stored(engine, filters, uid, "id", "name") == {
        (f["id"], f["name"]) for f in every_filter
    }
    assert stored(engine, users, uid, "username", "first_name") == {
        (u["username"], u["firstName"]) for u in sim_users.users(sim)
    }
    assert stored(engine, components, uid, "uid", "credentials_required") == {
        (c["uid"], c["credentialsRequired"]) for c in sim_components.components(sim)
    }
    assert stored(engine, account_variables, uid, "id", "value") == {
        (v["id"], v["value"]) for v in sim_variables.account_variables(sim)
    }
    assert stored(engine, devices, uid, "uid") == {(d,) for d in sim.devices}


def test_a_then_b_then_a_each_account_keeps_its_own_rows(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    with simulators(2, sim1={"sites": 5}) as (sim_a, sim_b):
        path, env = write_config(tmp_path, [sim_a, sim_b], url)
        a, b = accounts_of(load_settings(path, env=env))
        assert sim_users.users(sim_a)[0]["username"] == sim_users.users(sim_b)[0]["username"]
        assert run_sync(a.settings, RESOURCES, engine=engine, account_name="a").ok
        check_mirrors(engine, sim_a)
        sim_a.__dict__["filters"]["custom"].pop()  # deleted in A: gone from A only, later
        assert run_sync(b.settings, RESOURCES, engine=engine, account_name="b").ok
        check_mirrors(engine, sim_b)
        assert run_sync(a.settings, RESOURCES, engine=engine, account_name="a").ok
        check_mirrors(engine, sim_a)
        check_mirrors(engine, sim_b)


def test_bad_credentials_and_an_ip_block_leave_the_third_account_alone(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    with simulators(3, sim2={"force_block_at": 1}) as (good, refused, blocked):
        path, env = write_config(tmp_path, [good, refused, blocked], db_url)
        env["ACCOUNT_B_SECRET"] = "wrong"
        env["DATTO_ETL_BUDGET_BLOCK_SECONDS"] = "60000"  # 10 minutes on the fast clock
        result = etl(["--config", str(path), "sync", *RESOURCES], env, tmp_path)
        assert "account a" not in result.stderr, result.stderr[-3000:]
        check_mirrors(engine, good)
        served = len(blocked.records)
        again = etl(["--config", str(path), "sync", "--account", "c", "sites"], env, tmp_path)
        served_again = len(blocked.records) - served
        blocked_origin = blocked.url
        status = etl(["--config", str(path), "status", "--json"], env, tmp_path)
        only_a = etl(["--config", str(path), "status", "--account", "a", *RESOURCES], env, tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]  # two different codes: 3 and 4
    lines = result.stderr.splitlines()
    assert any(line.startswith("account b: error: Datto refused") for line in lines), lines
    hint = "(account b takes them from the variables ACCOUNT_B_KEY and ACCOUNT_B_SECRET)"
    assert hint in result.stderr
    assert any(line.startswith("account c: error: Datto blocked this IP") for line in lines)
    assert not any(line.startswith("account a:") for line in lines)
    assert "Traceback" not in result.stderr
    # the block is remembered for the origin: the next run makes no call at all
    assert again.returncode == 4 and served_again == 0, again.stderr[-2000:]
    report = json.loads(status.stdout)
    assert status.returncode == 1 and not report["ok"]
    by_name = {a["name"]: a for a in report["accounts"]}
    assert list(by_name) == ["a", "b", "c"]
    assert by_name["a"]["account_uid"] == good.account_uid
    assert by_name["b"]["account_uid"] is None and not by_name["b"]["healthy"]
    assert by_name["c"]["origin"] == blocked_origin
    assert only_a.returncode == 0 and "account a (" in only_a.stdout
    assert "account b" not in only_a.stdout


def test_an_ip_block_stops_every_account_of_its_origin_only(tmp_path: Path) -> None:
    def datto(origin: str, key: str) -> DattoSettings:
        return DattoSettings(api_url=origin, api_key=SecretStr(key), api_secret=SecretStr("s"))

    budget = BudgetSettings(state_dir=str(tmp_path))
    first, second = datto("http://127.0.0.1:7001", "k1"), datto("http://127.0.0.1:7001", "k2")
    elsewhere = datto("http://127.0.0.1:7002", "k3")
    budgets = [budget_for(d, budget) for d in (first, second, elsewhere)]
    assert block_origin(first, budget, time.time() + 300, "blocked") == 2
    assert [b.blocked_for() > 250 for b in budgets] == [True, True, False]
    later = budget_for(datto("http://127.0.0.1:7001", "k4"), budget)  # a new account, or process
    assert later.blocked_for() > 250
    assert budget_for(datto("http://127.0.0.1:7003", "k5"), budget).blocked_for() == 0
