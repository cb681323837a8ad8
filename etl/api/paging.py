"""Walking one paged list: validating each page and finding the next, in one place.

:class:`ListWalk` holds where a walk is (URL, page number, what it has seen) and knows the
rules: ``nextPageUrl`` is checked by the client's origin guard and gets our filters back; a
walk ends on a null/empty next link or an empty page; a list answered without
``pageDetails`` goes on by page number until an empty page (stopping early would lose rows);
a URL seen twice is a loop. :meth:`DattoClient.paginate` drives one walk; per-device and
per-site fetches drive many at once, each step the same.

A walk is bounded whatever the server sends: a page holding far more items than ``max``
asked for is refused (:data:`ITEMS_FACTOR`); so is a walk whose pages bring nothing new
:data:`STALE_PAGES` times in a row (the same items again behind ever-new URLs, which the
URL check cannot catch), or that reads past the list's ``totalCount`` by more than a page
and a tenth of the list (:func:`overrun_margin`).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from etl.errors import FatalAPIError, MalformedResponseError, ResponseTooLargeError

MAX_PAGES = 100_000  # a walk longer than this is a loop, not an account
ITEMS_FACTOR = 4  # a page may hold up to this many times the items asked for...
ITEMS_FLOOR = 1_000  # ...and this many in any case (alert lists' page size is unknown)
STALE_PAGES = 3  # pages in a row without one new item: the walk goes round in circles
# Items whose digest a walk remembers for that test, the latest ones: a loop of up to 200
# pages of 250 is seen; a longer one meets totalCount or MAX_PAGES. Bounded, because a
# digest per item of a 1,000,000-alert history held 80 MB.
KNOWN_ITEMS = 50_000


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
    _known: set[bytes] = field(default_factory=set)  # a digest of the latest items read
    _order: deque[bytes] = field(default_factory=deque)  # the same, oldest first
    _stale: int = 0  # pages in a row that brought no new item
    _read: int = 0  # items read so far
    _total: int | None = None  # the largest totalCount the server gave

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
        asked = self.asked()
        if asked is not None and len(items) > max(ITEMS_FACTOR * asked[1], ITEMS_FLOOR):
            raise ResponseTooLargeError(
                f"{where} holds {len(items)} items where {asked[0]}={asked[1]} was asked: "
                "refused (the server ignores the page size)"
            )
        details = body.get("pageDetails")
        has = isinstance(details, dict)
        paging: dict[str, Any] = details if isinstance(details, dict) else {}
        total, nxt = paging.get("totalCount"), paging.get("nextPageUrl")
        url = str(self.request_url)
        return Page(items, self.number, url, total if isinstance(total, int) else None, nxt, has)

    def asked(self) -> tuple[str, int] | None:
        """The page size asked for (``max``, or ``size`` for activity logs), if any."""
        for key in ("size", "max"):  # activity logs: ``size`` (they ignore ``max``)
            value = self.params.get(key)
            if isinstance(value, int) and value > 0:
                return key, value
        return None

    def _check_progress(self, page: Page) -> None:
        """Stop a walk that goes round in circles: no new item for :data:`STALE_PAGES` pages
        in a row, or far more items read than the list's ``totalCount``."""
        new = 0
        for item in page.items:
            text = json.dumps(item, sort_keys=True, default=str).encode()
            digest = hashlib.blake2b(text, digest_size=12).digest()
            if digest not in self._known:
                self._known.add(digest)
                self._order.append(digest)
                if len(self._order) > KNOWN_ITEMS:
                    self._known.discard(self._order.popleft())
                new += 1
        self._stale = 0 if new else self._stale + 1
        self._read += len(page.items)
        if page.total_count is not None:
            self._total = max(self._total or 0, page.total_count)
        pages = self.number + 1
        if self._stale >= STALE_PAGES:
            raise FatalAPIError(
                f"{self.path}: paging does not end: {STALE_PAGES} pages in a row brought no "
                f"new item (the same ones again under new nextPageUrls); stopped after "
                f"{_pages(pages)}"
            )
        if self._total is not None and self._read > self._total + self.overrun_margin():
            raise FatalAPIError(
                f"{self.path}: paging does not end: {self._read} items read where the list "
                f"counts {self._total} (totalCount); stopped after {_pages(pages)}"
            )

    def overrun_margin(self) -> int:
        """Items a walk may read past ``totalCount``: the list may grow while it is read
        (a page and a tenth of the list)."""
        asked = self.asked()
        return (asked[1] if asked else ITEMS_FLOOR) + (self._total or 0) // 10

    def advance(self, page: Page, next_url: Callable[[object, dict[str, Any]], Any]) -> None:
        """Move to the page after ``page`` (``url`` None when the walk is over).

        ``next_url`` is the client's guard: it validates a ``nextPageUrl`` and re-applies
        our filters. A walk that goes round in circles raises FatalAPIError.
        """
        if not page.items:
            self.url = None
            return
        self._check_progress(page)
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


def _pages(n: int) -> str:
    return f"{n} page" if n == 1 else f"{n} pages"
