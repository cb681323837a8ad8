"""Users of the simulated account (``/v2/account/users``): no id, keyed by username."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datto_sim.server import Request, Response, Router

if TYPE_CHECKING:
    from datto_sim.core import Simulator

ORDER = 40  # generation order

FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eve", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi"]
LAST = ["Smith", "Okafor", "Novak", "Garcia", "Lee", "Murphy", "Rossi", "Khan", "Berg", "Silva"]
DAY_MS = 86_400_000


def users(sim: Simulator) -> list[dict[str, Any]]:
    """The account's users in the API's shape (the simulator's ground truth)."""
    return sim.__dict__["users"]


def user_id(sim: Simulator, user: dict[str, Any]) -> int:
    """The integer id activity logs give a user (the user list itself has none)."""
    return 7000 + users(sim).index(user)


def generate(sim: Simulator) -> None:
    """A dozen or two users: some disabled, some never logged in."""
    from datto_sim.core import id_rng

    rng, now = sim.rng, sim.now_ms()
    shared = id_rng(sim, "users")
    out = []
    for n in range(12 + sim.settings.sites // 5):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        named = (shared.choice(FIRST), shared.choice(LAST)) if shared else (first, last)
        username = f"{named[0][0].lower()}{named[1].lower()}{n}"
        out.append(
            {
                "firstName": first,
                "lastName": last,
                "username": username,
                "email": f"{username}@msp.example",
                "telephone": rng.choice([None, f"+44 20 7946 0{rng.randint(100, 999)}"]),
                "status": rng.choice(["active", "active", "active", "pending"]),
                "created": now - rng.randint(30, 1500) * DAY_MS,
                "lastAccess": rng.choice([0, now - rng.randint(0, 60 * DAY_MS)]),
                "disabled": rng.random() < 0.1,
            }
        )
    sim.__dict__["users"] = out


def register(router: Router) -> None:
    """Routes of this module."""

    @router.get("/v2/account/users")
    def account_users(sim: Simulator, req: Request) -> Response:
        with sim.lock:
            items = list(users(sim))
        return sim.page(req, items, "users")
