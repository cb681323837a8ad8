"""Walking one paged list: validating each page and finding the next, in one place.

:class:`ListWalk` holds where a walk is (URL, page number, what it has seen) and knows the
rules: ``nextPageUrl`` is checked by the client's origin guard and gets our filters back; a
walk ends on a null/empty next link or an empty page; a list answered without
``pageDetails`` goes on by page number until an empty page (stopping early would lose rows);
a URL seen twice is a loop. :meth:`DattoClient.paginate` drives one walk; per-device and
per-site fetches drive many at once, each step the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from etl.errors import FatalAPIError, MalformedResponseError

MAX_PAGES = 100_000  # a walk longer than this is a loop, not an account


@dataclass
class Page:
    """One page of a list: its items, number (from 0) and the server's paging details."""

    items: list[dict[str, Any]]
    number: int
    url: str
    total_count: int | None
    next_url: str | None
    has_details: bool = True


@dataclass
class ListWalk:
    """The state of one walk through a paged list."""

    path: str
    items_key: str
    params: dict[str, Any]
    url: httpx.URL | None
    query: dict[str, Any] | None = None
    number: int = 0
    seen: set[str] = field(default_factory=set)
    _first: str | None = None  # first item of the last page read without pageDetails

    @classmethod
    def start(cls, url: httpx.URL, path: str, items_key: str, params: dict[str, Any]) -> ListWalk:
        """A walk from page 0 of ``url`` with ``params`` (``max`` included)."""
        return cls(path, items_key, params, url, query=dict(params))

    @property
    def request_url(self) -> httpx.URL:
        """The full URL of the next request (query merged)."""
        assert self.url is not None
        return self.url.copy_merge_params(self.query or {})

    def page(self, body: Any) -> Page:
        """Validate one answer of this walk; a malformed page raises MalformedResponseError."""
        where = f"{self.path} page {self.number}"
        if not isinstance(body, dict) or not isinstance(body.get(self.items_key, []), list):
            raise MalformedResponseError(f"{where} has no '{self.items_key}' list")
        items = body.get(self.items_key) or []
        if not all(isinstance(item, dict) for item in items):
            raise MalformedResponseError(f"{where}: an item is not a JSON object")
        details = body.get("pageDetails")
        has = isinstance(details, dict)
        paging: dict[str, Any] = details if isinstance(details, dict) else {}
        total, nxt = paging.get("totalCount"), paging.get("nextPageUrl")
        url = str(self.request_url)
        return Page(items, self.number, url, total if isinstance(total, int) else None, nxt, has)

    def advance(self, page: Page, next_url: Callable[[object, dict[str, Any]], Any]) -> None:
        """Move to the page after ``page`` (``url`` None when the walk is over).

        ``next_url`` is the client's guard: it validates a ``nextPageUrl`` and re-applies
        our filters.
        """
        if not page.items:
            self.url = None
            return
        here = self.request_url
        self.seen.add(str(here))
        self.query = None
        self.url = next_url(page.next_url, self.params)
        if not page.has_details:  # no paging details: never guess "last page"
            first, previous = json.dumps(page.items[0], sort_keys=True), self._first
            self._first = first
            self.url = self._by_number(here, page.items, first == previous)
        self.number += 1
        if self.url is not None and (str(self.url) in self.seen or self.number >= MAX_PAGES):
            raise FatalAPIError(f"{self.path}: nextPageUrl loops back to a page already read")

    def _by_number(
        self, here: httpx.URL, items: list[dict[str, Any]], again: bool
    ) -> httpx.URL | None:
        """The page after ``here`` when ``pageDetails`` is missing.

        Numbered lists go on to ``page+1`` until an empty page (a page past the end is 200
        with an empty list); lists paged by ``size`` and ``searchAfter`` (activity logs)
        cannot.
        """
        if "size" in self.params:
            if len(items) < int(self.params["size"]):
                return None  # a short page is the last one
            raise MalformedResponseError(
                f"{self.path} has no pageDetails: cannot find the next page"
            )
        if again:  # the same page twice: the server ignores ``page``
            raise MalformedResponseError(f"{self.path} has no pageDetails and ignores 'page'")
        return here.copy_set_param("page", int(here.params.get("page") or 0) + 1)
