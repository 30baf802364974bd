"""Summaries that scale (issue 16): one pass over the columns, exact build-up bands where
they fit, histogram bands within their stated bound where they do not, and the same
summaries as before for ordinary batches."""

from __future__ import annotations

import json
import math
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tripwire import metrics, results, summary
from tripwire.results import ParquetColumns, read_table
from tripwire.scenario import COUNTRIES
from tripwire.summary import BandHistograms, point_metrics, summarise

ROOT = Path(__file__).resolve().parents[2]
RUN3 = ROOT / "tests" / "fixtures" / "run3"
QS = (0.1, 0.5, 0.9)


def fixture_meta(name: str) -> tuple[dict, dict, list[float]]:
    """(summary.json, the meta it was written from, the checkpoints) of a fixture run."""
    want = json.loads((RUN3 / name / "summary.json").read_text())
    keys = ("scenario", "posture", "seed", "horizon_hours", "buildup_step_hours")
    meta = {k: want[k] for k in (*keys, "requirement", "adversary", "file") if k in want}
    resolved = yaml.safe_load((RUN3 / name / "scenario.resolved.yaml").read_text())
    return want, meta, resolved["checkpoints_hours"]


def regrouped(src: Path, dest: Path, rows: int) -> Path:
    """``src`` rewritten with row groups of ``rows`` rows (several, as a large run has)."""
    pq.write_table(pq.read_table(src), dest, row_group_size=rows)
    return dest


# --------------------------------------------------------------------------- unchanged


@pytest.mark.parametrize("name", ["brigade", "rotational", "permanent"])
def test_the_fixture_summaries_are_unchanged(name, tmp_path):
    """summary.json of each fixture run (written before this change) is reproduced exactly,
    from the table in memory and from Parquet read in row groups of 16 rows."""
    want, meta, checkpoints = fixture_meta(name)
    path = regrouped(RUN3 / name / "replications.parquet", tmp_path / "r.parquet", 16)
    assert pq.ParquetFile(path).num_row_groups > 1
    for table in (read_table(path), ParquetColumns(path)):
        got = json.loads(json.dumps(summarise(table, meta, checkpoints)))
        assert got == want


def test_point_metrics_read_the_kaplan_meier_curve_as_before():
    _, meta, checkpoints = fixture_meta("brigade")
    table = read_table(RUN3 / "brigade" / "replications.parquet")
    pm = point_metrics(table, meta["horizon_hours"], checkpoints)
    for area in summary.AREAS:
        t = summary.censored_times(table, area)
        assert pm[f"ttr_rmean_{area}_h"] == float(np.mean(np.minimum(t, meta["horizon_hours"])))
        for cp in checkpoints:
            want = metrics.cdf_at(t, meta["horizon_hours"], cp).value
            assert pm[f"p_reinforced_{area}_by_{cp:g}h"] == want


# --------------------------------------------------------------------------- one pass


def test_each_column_is_read_once_and_the_build_up_in_one_pass(tmp_path, monkeypatch):
    """With nothing cached, summarise reads every column it uses exactly once, each a row
    group at a time: the build-up lists in one pass for all grid points."""
    _, meta, checkpoints = fixture_meta("brigade")
    path = regrouped(RUN3 / "brigade" / "replications.parquet", tmp_path / "r.parquet", 16)
    monkeypatch.setattr(results, "CACHE_BYTES", 0)
    table = ParquetColumns(path)
    groups = table.file.num_row_groups
    reads: dict[str, int] = {}
    original = table.file.read_row_group

    def counting(i, columns=None, **kw):
        for c in columns:
            reads[c] = reads.get(c, 0) + 1
        return original(i, columns=columns, **kw)

    def whole(*args, **kw):  # pragma: no cover - a read of a whole column would fail here
        raise AssertionError("a whole-column read")

    monkeypatch.setattr(table.file, "read_row_group", counting)
    monkeypatch.setattr(table.file, "read", whole)
    summarise(table, meta, checkpoints)
    assert reads and set(reads.values()) == {groups}, reads
    assert all(f"buildup_{c}" in reads for c in COUNTRIES)
    assert "replication" not in reads  # the row count comes from the footer


def test_parquet_columns_keep_few_bytes_and_read_as_read_table(tmp_path, monkeypatch):
    n = 5_000
    ints = pa.array([None if i == 4_321 else i for i in range(n)], pa.int64())  # one null
    flags = pa.array([None if i == 7 else i % 2 == 0 for i in range(n)], pa.bool_())
    data = {
        "x": np.arange(n, dtype=float),
        "y": -np.arange(n, dtype=float),
        "ints": ints,
        "flags": flags,
        "name": [f"r{i}" for i in range(n)],
        "buildup_estonia": [[float(i), i + 0.5] for i in range(n)],
    }
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table(data), path, row_group_size=1_000)
    want = read_table(path)
    monkeypatch.setattr(results, "CACHE_BYTES", 60_000)  # fewer bytes than two columns
    table = ParquetColumns(path)
    assert table.num_rows == n
    for name in want:
        got = table[name]
        assert got.dtype == want[name].dtype and got.shape == want[name].shape, name
        np.testing.assert_array_equal(got, want[name])
        assert sum(c.nbytes for c in table._cache.values()) <= 60_000
    x = table["x"]
    assert table["x"] is x  # kept
    table["y"]
    assert table["x"] is not x  # two 40 kB columns do not fit in 60 kB: read again
    assert table["buildup_estonia"] is not table["buildup_estonia"]  # 80 kB: never kept
    stacked = np.concatenate(list(table.row_groups("buildup_estonia")))
    np.testing.assert_array_equal(stacked, want["buildup_estonia"])


# --------------------------------------------------------------------------- joined tables


def split_into_parts(src: Path, folder: Path, rows: int) -> list[Path]:
    """``src`` cut into parts of ``rows`` rows, as a run's chunks write them."""
    table = pq.read_table(src)
    folder.mkdir()
    parts = []
    for start in range(0, table.num_rows, rows):
        parts.append(folder / f"rep-{start:09d}.parquet")
        pq.write_table(table.slice(start, rows), parts[-1])
    return parts


def assert_same_rows(got: pa.Table, want: pa.Table) -> None:
    """Equal schemas and equal values, NaN equal to NaN, nulls where they were."""
    assert got.schema.equals(want.schema, check_metadata=True)
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        a, b = got[name].combine_chunks(), want[name].combine_chunks()
        if pa.types.is_list(b.type):
            assert a.offsets.equals(b.offsets) and a.is_null().equals(b.is_null()), name
            a, b = a.flatten(), b.flatten()
        assert a.is_null().equals(b.is_null()), name
        want_values = b.to_numpy(zero_copy_only=False)
        np.testing.assert_array_equal(a.to_numpy(zero_copy_only=False), want_values, name)


@pytest.mark.parametrize("rows", [1_000, 10**6, 10**8])
@pytest.mark.parametrize("columns", [22, 208])
def test_a_joined_table_has_a_bounded_number_of_column_chunks(rows, columns):
    """Row groups of at least ROW_GROUP rows, at most GROUP_BYTES, and within the byte
    cap at most FOOTER_CHUNKS column chunks, whatever the number of rows."""
    row_bytes = 3_800.0 if columns == 208 else 185.0  # replications, formations
    size = results.group_rows(rows, columns, row_bytes)
    groups = math.ceil(rows / size)
    assert size >= results.ROW_GROUP
    assert size == results.ROW_GROUP or size * row_bytes <= results.GROUP_BYTES
    if size * row_bytes <= results.GROUP_BYTES - row_bytes:  # the cap did not bind
        assert groups * columns <= results.FOOTER_CHUNKS
    if (rows, columns) == (10**6, 208):  # a 10^6-replication run's replications.parquet
        assert (size, groups) == (12_821, 78)


@pytest.mark.parametrize("name", ["brigade", "rotational"])
def test_a_consolidated_table_holds_the_parts_rows_in_few_row_groups(name, tmp_path, monkeypatch):
    """Parts of 7 rows joined with a budget of 3 row groups: 3 row groups of 27 rows
    (whatever the parts' size), the parts' rows exactly, and the same summary.json with
    each row group read 4 rows at a time; with a byte cap of 10 rows, row groups of 10."""
    src = RUN3 / name / "replications.parquet"
    want_rows = pq.read_table(src)
    parts = split_into_parts(src, tmp_path / "parts", 7)
    monkeypatch.setattr(results, "ROW_GROUP", 4)
    monkeypatch.setattr(results, "FOOTER_CHUNKS", 3 * want_rows.num_columns)
    monkeypatch.setattr(results, "PIECE_ROWS", 10)  # parts held are gathered in pairs
    dest = tmp_path / "replications.parquet"
    assert results.consolidate(parts, dest) == want_rows.num_rows == 80
    layout = [g.num_rows for g in map(pq.ParquetFile(dest).metadata.row_group, range(3))]
    assert pq.ParquetFile(dest).num_row_groups == 3 and layout == [27, 27, 26]
    assert_same_rows(pq.read_table(dest), want_rows)
    want, meta, checkpoints = fixture_meta(name)
    points = len(want_rows["buildup_estonia"][0])
    monkeypatch.setattr(results, "READ_VALUES", 4 * points)  # a row group in slices
    columns = ParquetColumns(dest)
    slices = [len(g) for g in columns.row_groups("buildup_estonia")]
    assert sum(slices) == 80 and max(slices) == 4 and len(slices) == 21
    assert json.loads(json.dumps(summarise(columns, meta, checkpoints))) == want

    first = pq.read_table(parts[0])  # the join sizes a row by its first part
    monkeypatch.setattr(results, "GROUP_BYTES", int(10.5 * first.nbytes / first.num_rows))
    assert results.consolidate(parts, dest) == 80
    assert pq.ParquetFile(dest).num_row_groups == 8
    assert_same_rows(pq.read_table(dest), want_rows)


def test_a_consolidated_closure_table_is_the_parts_rows(tmp_path, monkeypatch):
    """The closure table (strings, many rows per replication) joins to the same rows."""
    src = RUN3 / "brigade" / "formations.parquet"
    want_rows = pq.read_table(src)
    parts = split_into_parts(src, tmp_path / "parts", 50)
    monkeypatch.setattr(results, "ROW_GROUP", 10)
    monkeypatch.setattr(results, "FOOTER_CHUNKS", 4 * want_rows.num_columns)
    dest = tmp_path / "formations.parquet"
    assert results.consolidate(parts, dest) == want_rows.num_rows
    assert pq.ParquetFile(dest).num_row_groups == min(4, math.ceil(want_rows.num_rows / 10))
    assert_same_rows(pq.read_table(dest), want_rows)


# --------------------------------------------------------------------------- build-up bands


def buildup_table(rng: np.random.Generator, n: int, points: int) -> dict[str, np.ndarray]:
    """A non-decreasing strength per replication (float32, as the runner writes it)."""
    table = {"replication": np.arange(n)}
    for c in COUNTRIES:
        steps = rng.exponential(300.0, (n, points)) * (rng.random((n, points)) < 0.3)
        start = rng.integers(900, 5_000, n)[:, None]
        table[f"buildup_{c}"] = (start + np.cumsum(steps, axis=1)).astype(np.float32)
    return table


def meta_for(points: int, step: float = 12.0) -> dict[str, float]:
    return {"horizon_hours": step * (points - 1), "buildup_step_hours": step}


REQUIRED = {c: {"p10": 1.0, "p50": 2.0, "p90": 3.0} for c in COUNTRIES}


def test_small_batches_give_the_exact_bands(tmp_path):
    """Within BUILDUP_EXACT_CELLS the bands are np.quantile's, rounded as before, whether
    the table is in memory or read a row group at a time."""
    rng = np.random.default_rng(7)
    n, points = 777, 181
    table = buildup_table(rng, n, points)
    path = tmp_path / "b.parquet"
    pq.write_table(pa.table({k: list(v) if v.ndim > 1 else v for k, v in table.items()}), path)
    regrouped(path, path, 100)
    assert n * points <= summary.BUILDUP_EXACT_CELLS
    for source in (table, ParquetColumns(path)):
        out = summary._buildup(source, meta_for(points), n, REQUIRED)
        assert out is not None
        for c in COUNTRIES:
            exact = np.quantile(table[f"buildup_{c}"].astype(float), QS, axis=0)
            band = out["countries"][c]
            assert "max_error" not in band
            for i, key in enumerate(("p10", "p50", "p90")):
                assert band[key] == [round(float(v), 1) for v in exact[i]]


def test_large_batches_keep_within_the_stated_bound(tmp_path, monkeypatch):
    """Past the exact budget the bands come from histograms: within max_error (plus the
    rounding to 0.1) of np.quantile, and max_error within the bound of BandHistograms."""
    rng = np.random.default_rng(8)
    n, points = 12_345, 61
    table = buildup_table(rng, n, points)
    path = tmp_path / "b.parquet"
    pq.write_table(
        pa.table({k: list(v) if v.ndim > 1 else v for k, v in table.items()}),
        path,
        row_group_size=2_000,
    )
    monkeypatch.setattr(summary, "BUILDUP_EXACT_CELLS", 0)
    for source in (table, ParquetColumns(path)):
        out = summary._buildup(source, meta_for(points), n, REQUIRED)
        assert out is not None
        for c in COUNTRIES:
            values = table[f"buildup_{c}"].astype(float)
            exact = np.quantile(values, QS, axis=0)
            band = out["countries"][c]
            span = float((values.max(axis=0) - values.min(axis=0)).max())
            assert 0 < band["max_error"] <= max(2.0**-10, 2 * span / (summary.BUILDUP_BINS - 1))
            for i, key in enumerate(("p10", "p50", "p90")):
                err = np.abs(np.array(band[key]) - exact[i])
                assert np.all(err <= band["max_error"] + 0.05 + 1e-9), (c, key, err.max())


# a column of values: continuous, ties, constant, negative, far from zero, tiny spans
COLUMNS = st.one_of(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=120),
    st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=120),
    st.lists(st.floats(1e5, 1e5 + 1e-3), min_size=1, max_size=120),
    st.floats(-1e4, 1e4).flatmap(lambda v: st.lists(st.just(v), min_size=1, max_size=60)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.lists(COLUMNS, min_size=1, max_size=4),
    bins=st.sampled_from([2, 3, 8, 64, 4096]),
    cuts=st.lists(st.integers(1, 40), max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_histogram_bands_are_within_one_bin_of_np_quantile(columns, bins, cuts, seed):
    """|band - np.quantile| < w_g at every point, and w_g <= max(2^-10, 2 span / (bins - 1)),
    whatever the values and however the rows arrive in groups."""
    rows = min(len(c) for c in columns)
    rng = np.random.default_rng(seed)
    data = np.column_stack([rng.permutation(np.array(c[:rows])) for c in columns])
    hist = BandHistograms(data.shape[1], bins)
    start = 0
    for cut in [*cuts, rows]:
        hist.add(data[start : start + cut])
        start += cut
        if start >= rows:
            break
    qs = (0.0, 0.1, 0.5, 0.9, 1.0)
    got, exact = hist.quantiles(qs), np.quantile(data, qs, axis=0)
    width = hist.width
    assert np.all(np.abs(got - exact) < width)
    span = data.max(axis=0) - data.min(axis=0)
    assert np.all(width <= np.maximum(2.0**summary.FINEST_BIN, 2 * span / (bins - 1)))
    assert np.array_equal(got[0], exact[0]) and np.array_equal(got[-1], exact[-1])  # min, max


def test_histogram_bands_of_non_finite_values_are_nan():
    hist = BandHistograms(3, 16)
    hist.add(np.array([[1.0, np.nan, 2.0], [3.0, 4.0, np.inf]]))
    hist.add(np.array([[5.0, 6.0, 7.0]]))
    got = hist.quantiles(QS)
    assert np.isnan(got[:, 1:]).all()
    assert np.all(np.abs(got[:, 0] - [1.4, 3.0, 4.6]) < hist.width[0])


# --------------------------------------------------------------------------- Kaplan-Meier

TIMES = st.lists(
    st.one_of(
        st.floats(-100, 3_000, allow_nan=False),
        st.sampled_from([0.0, 12.0, 24.0, 100.0, math.inf, -math.inf, math.nan, 2_160.0]),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=TIMES,
    horizon=st.sampled_from([0.0, 100.0, 2_160.0, math.inf]),
    block=st.integers(1, 9),
)
def test_the_kaplan_meier_walk_matches_metrics_bit_for_bit(times, horizon, block):
    """_km_at walks the events a block at a time; it reads the same numbers as
    metrics.kaplan_meier and metrics.cdf_at, to the last bit, ties across blocks too."""
    t = np.array(times, dtype=float)
    at = np.array([-200.0, -1.0, 0.0, 12.0, 24.0, 50.0, 100.0, 2_000.0, 2_160.0, 1e9])
    ev, f, lo, hi = metrics.kaplan_meier(t, horizon)
    k = np.searchsorted(ev, at, side="right")
    with patch.object(summary, "KM_BLOCK", block):
        got = summary._km_at(np.sort(t), horizon, at)
    for mine, theirs in zip(got[:3], (f, lo, hi)):
        want = np.where(k > 0, theirs[np.maximum(k - 1, 0)], 0.0) if ev.size else 0.0 * at
        np.testing.assert_array_equal(mine, want)
    np.testing.assert_array_equal(got[3], k > 0)
    if math.isinf(horizon):  # no curve grid reaches an infinite horizon
        return
    with patch.object(summary, "KM_BLOCK", block):
        _, at_cp = summary._survival(np.sort(t), horizon, list(at))
    assert at_cp == [metrics.cdf_at(t, horizon, a) for a in at]


@pytest.mark.parametrize("block", [summary.KM_BLOCK, 1_000])
def test_the_kaplan_meier_walk_matches_on_a_large_sample(block):
    """200,000 times (ties, censoring, many blocks): the same curve and checkpoints."""
    rng = np.random.default_rng(11)
    t = np.round(rng.lognormal(5, 1, 200_000), 1) - 100  # rounded: many ties
    t[rng.random(t.size) < 0.2] = np.inf
    at = np.r_[summary.curve_grid(float(t.min()), 2_160.0), [24.0, 72.0, 168.0, 720.0]]
    ev, f, lo, hi = metrics.kaplan_meier(t, 2_160.0)
    k = np.searchsorted(ev, at, side="right")
    with patch.object(summary, "KM_BLOCK", block):
        got = summary._km_at(np.sort(t), 2_160.0, at)
    for mine, theirs in zip(got[:3], (f, lo, hi)):
        np.testing.assert_array_equal(mine, np.where(k > 0, theirs[np.maximum(k - 1, 0)], 0.0))


# --------------------------------------------------------------------------- memory


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 30), min_size=1, max_size=8),
    rows=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
)
def test_regrouped_rows_give_the_same_histograms(sizes, rows, seed):
    """``_in_rows`` hands on every row, in order, ``rows`` at a time; counting them so gives
    the very histograms (bins, widths, counts) and bands of counting the groups as read."""
    rng = np.random.default_rng(seed)
    groups = [rng.gamma(2.0, 50.0, (k, 7)).astype(np.float32) for k in sizes]
    seen, direct, regrouped_ = [], BandHistograms(7, 64), BandHistograms(7, 64)
    for g in groups:
        direct.add(g)
    for g in summary._in_rows(iter(groups), rows):
        assert 0 < len(g) <= rows
        seen.append(g.copy())  # the buffer is reused
        regrouped_.add(g)
    assert all(len(g) == rows for g in seen[:-1])
    np.testing.assert_array_equal(
        np.concatenate(seen) if seen else np.empty((0, 7)), np.concatenate(groups)
    )
    for key in ("counts", "exponent", "first", "low", "high", "rows"):
        np.testing.assert_array_equal(getattr(regrouped_, key), getattr(direct, key))
    np.testing.assert_array_equal(regrouped_.quantiles(QS), direct.quantiles(QS))


def test_a_column_read_afresh_is_the_callers_own(tmp_path):
    """``ParquetColumns.read`` converts as ``np.asarray`` does and never hands out the
    cached array, so the summaries may sort and overwrite what they read."""
    n = 3_000
    path = tmp_path / "t.parquet"
    loads = np.arange(n, dtype=np.int64) * 7 - 5
    pq.write_table(pa.table({"loads": loads, "x": np.linspace(0, 1, n)}), path, row_group_size=700)
    table = ParquetColumns(path)
    cached = table["x"]
    mine = table.read("x")
    assert mine is not cached and np.array_equal(mine, cached)
    mine[:] = -1
    assert np.array_equal(table["x"], np.linspace(0, 1, n))
    as_float = table.read("loads", float)
    assert as_float.dtype == np.float64
    np.testing.assert_array_equal(as_float, np.asarray(loads, dtype=float))
    with pytest.raises(KeyError):
        table.read("missing")


def test_summarising_leaves_the_table_as_it_was():
    """Summaries sort and overwrite their own copies only: a table in memory is unchanged,
    and a second summary of it is the first."""
    _, meta, checkpoints = fixture_meta("brigade")
    table = read_table(RUN3 / "brigade" / "replications.parquet")
    before = {k: v.copy() for k, v in table.items()}
    first = summarise(table, meta, checkpoints)
    point_metrics(table, meta["horizon_hours"], checkpoints)
    for k, v in before.items():
        np.testing.assert_array_equal(table[k], v, k)
    assert json.dumps(summarise(table, meta, checkpoints)) == json.dumps(first)


def test_importing_tripwire_puts_arrow_on_the_system_allocator():
    """Parquet's readers allocate from Arrow's C++ default pool, chosen when pyarrow loads:
    importing tripwire first makes it the system allocator (which returns what a read
    frees), and a value the user set is kept."""
    import os
    import subprocess
    import sys

    code = "import tripwire, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "system", out.stderr
    env["ARROW_DEFAULT_MEMORY_POOL"] = "mimalloc"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "mimalloc", out.stderr
