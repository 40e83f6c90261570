"""The inspector's memory: the last exchanges of each tab, and of each session's requests without a tab, bounded."""

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

# The exchanges kept per tab, and the tabs (with each session's tab-less requests) kept per app, oldest dropped first.
PER_TAB = 20
MAX_TABS = 200


@dataclass(frozen=True)
class Rendered:
    """A template an answer rendered: its name, and how (page, fragment, oob, or include: inside the page)."""

    name: str
    kind: str


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the inspector shows them."""

    id: str
    method: str
    url: str
    request_headers: tuple  # (name, value) pairs
    endpoint: str | None
    status: int
    rendered: tuple  # of Rendered
    response_headers: tuple  # (name, value) pairs
    size: int | None  # None: streamed
    number: int = 0  # the store's order of arrival


class Store:
    """Exchanges by (session key, tab), newest first; safe to share between a server's threads."""

    def __init__(self, per_tab=PER_TAB, max_tabs=MAX_TABS):
        self.per_tab = per_tab
        self.max_tabs = max_tabs
        self._lists = OrderedDict()  # (session key, tab or None) -> list of Exchange, newest first
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, session_key, tab, exchange):
        """Keep an exchange at the head of its tab's list, dropping the tab's oldest and the least recent tabs."""
        with self._lock:
            self._add((session_key, tab), replace(exchange, number=next(self._numbers)))

    def tab(self, session_key, tab):
        """Return one tab's exchanges, newest first."""
        with self._lock:
            return list(self._lists.get((session_key, tab), ()))

    def session(self, session_key):
        """Return a session's last exchanges, whatever their tab, newest first."""
        with self._lock:
            found = [exchange for (key, _), exchanges in self._lists.items() if key == session_key
                     for exchange in exchanges]
        return sorted(found, key=lambda exchange: exchange.number, reverse=True)[: self.per_tab]

    def claim(self, session_key, tab, exchange_id):
        """Move a full page's exchange, recorded before its tab's script could name the tab, into that tab."""
        with self._lock:
            untabbed = self._lists.get((session_key, None), ())
            found = next((exchange for exchange in untabbed if exchange.id == exchange_id), None)
            if found is None:
                return
            untabbed.remove(found)
            self._add((session_key, tab), found)

    def _add(self, key, exchange):
        kept = [exchange, *self._lists.pop(key, ())]
        kept.sort(key=lambda each: each.number, reverse=True)  # a claimed page may be older than its tab's others
        self._lists[key] = kept[: self.per_tab]
        while len(self._lists) > self.max_tabs:
            self._lists.popitem(last=False)
