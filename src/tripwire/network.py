"""Routing over the transport network: fastest paths by mode set, with or without the corridor.

The static weight of a link is the expected time for one load to cross it empty (mean
transit plus mean service). Two routing rules use it (the scenario's ``routing`` field):

* ``static``: every formation takes the fastest path on static weights. Route choice then
  never depends on capacity, so in a FIFO feed-forward network more channels can only make
  arrivals earlier (the property tests check this exactly).
* ``congestion``: at each node a formation picks the outgoing link minimising the time to
  push its own loads through the current backlog of that link plus the static distance
  from the link's far end (a one-step look-ahead). Traffic then spreads over rail, road and
  sea as planners would spread it; monotonicity in capacity holds on average, not in every
  replication.

Either way a formation re-plans at every node, so a cut corridor re-routes it at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tripwire.scenario import Link, Node

HEAVY_MODES = frozenset({"rail", "road", "sea"})
"""Modes that can carry a unit's heavy equipment."""
ALL_MODES = frozenset({"rail", "road", "sea", "air"})
"""Modes open to personnel flying in to draw pre-positioned equipment."""


@dataclass(frozen=True)
class Edge:
    """What routing needs to know of a link."""

    index: int
    src: str
    dst: str
    mode: str
    cost_hours: float
    corridor: bool


class Router:
    """Next-hop tables, computed once per (destination, modes, corridor state) and cached."""

    def __init__(self, edges: Sequence[Edge]) -> None:
        self.edges = tuple(edges)
        self._into: dict[str, list[Edge]] = {}
        for e in self.edges:
            self._into.setdefault(e.dst, []).append(e)
        self._out: dict[str, list[Edge]] = {}
        for e in self.edges:
            self._out.setdefault(e.src, []).append(e)
        self.table = cache(self._table)
        self.candidates = cache(self._candidates)

    def _table(
        self, dest: str, modes: frozenset[str], corridor_open: bool
    ) -> tuple[dict[str, Edge], dict[str, float]]:
        """Dijkstra backwards from ``dest``: node -> (first link, static hours) to ``dest``."""
        best: dict[str, float] = {dest: 0.0}
        nxt: dict[str, Edge] = {}
        heap: list[tuple[float, int, str]] = [(0.0, -1, dest)]
        while heap:
            cost, _, node = heapq.heappop(heap)
            if cost > best.get(node, float("inf")):
                continue
            for e in self._into.get(node, ()):
                if e.mode not in modes or (e.corridor and not corridor_open):
                    continue
                c = cost + e.cost_hours
                # ties go to the link listed first in the scenario (deterministic)
                if c < best.get(e.src, float("inf")) or (
                    c == best.get(e.src) and e.src in nxt and e.index < nxt[e.src].index
                ):
                    best[e.src] = c
                    nxt[e.src] = e
                    heapq.heappush(heap, (c, e.index, e.src))
        return nxt, best

    def next_edge(
        self, node: str, dest: str, modes: frozenset[str], corridor_open: bool
    ) -> Edge | None:
        """The first link of the fastest open path from ``node`` to ``dest``, or None."""
        return self.table(dest, modes, corridor_open)[0].get(node)

    def _candidates(
        self, node: str, dest: str, modes: frozenset[str], corridor_open: bool
    ) -> tuple[tuple[Edge, float], ...]:
        """Outgoing links of ``node`` that bring a formation closer to ``dest`` (strictly, so
        no route can loop), each with the static hours from its far end to ``dest``
        (``candidates``: cached per arguments, like ``table``)."""
        best = self.table(dest, modes, corridor_open)[1]
        here = best.get(node)
        if here is None:
            return ()
        return tuple(
            (e, best[e.dst])
            for e in self._out.get(node, ())
            if e.dst in best
            and best[e.dst] < here
            and e.mode in modes
            and (corridor_open or not e.corridor)
        )

    def path(
        self, node: str, dest: str, modes: frozenset[str], corridor_open: bool = True
    ) -> list[Edge] | None:
        """The whole fastest path (empty when already there, None when unreachable)."""
        out: list[Edge] = []
        while node != dest and len(out) <= len(self.edges):
            e = self.next_edge(node, dest, modes, corridor_open)
            if e is None:
                return None
            out.append(e)
            node = e.dst
        return out


# --------------------------------------------------------------------------- words


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def node_label(node_id: str, node: Node | Mapping[str, Any] | None) -> str:
    """A node's readable name: its ``label``, else its description, else its id in words."""
    for key in ("label", "description"):
        text = _get(node, key) if node is not None else None
        if text:
            return str(text)
    return node_id.replace("_", " ")


def route_label(link: Link | Mapping[str, Any], nodes: Mapping[str, Any]) -> str:
    """A link in words: "<from label> – <to label> (<mode>)", e.g. "Klaipeda anchorage –
    Klaipeda port (sea)". ``link`` is a :class:`~tripwire.scenario.Link` or its mapping (as
    in ``scenario.resolved.yaml``); ``nodes`` maps node ids to nodes or their mappings."""
    if isinstance(link, Mapping):
        src, dst, mode = link["from"], link["to"], link["mode"]
    else:
        src, dst, mode = link.from_, link.to, link.mode
    return f"{node_label(src, nodes.get(src))} – {node_label(dst, nodes.get(dst))} ({mode})"
