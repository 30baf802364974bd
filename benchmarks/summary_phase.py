"""The summary phase alone, and the join before it, on a large replications table (issue 16;
run on demand).

    python -m benchmarks.summary_phase join PARTS TABLE  # the child: join PARTS/rep-*.parquet
    python -m benchmarks.summary_phase TABLE OUT         # the child: summarise TABLE as a run does

Simulating 10^6 brigade replications takes about 1.5 h on 2 cores, so the large tables are
built from real simulated rows instead: ``simulate scenarios/brigade.yaml -n 10000`` is run
once, and the chunk parts of an N-replication run are written from its rows over and over
(chunks of ``runner.chunk_size`` replications, as a run on this machine cuts them, the same
schema, the replication column renumbered 0 .. N-1). A fresh process then joins them with
``results.consolidate``, as a run does, so the table has a real run's row groups
(``results.group_rows``) and footer. The 10^3 table is the first 1,000 rows, which are
exactly what a 10^3 run writes (a replication's draws depend on its index and the seed
only). A table of 10^6 rows so holds each of 10^4 real rows 100 times: its Parquet layout
and its column sizes are a 10^6 run's, its number of distinct values is not (the summary's
memory does not depend on it: the Kaplan-Meier walk and the build-up histograms are bounded
whatever the values). The summary child then does what ``campaign.summarise_run`` does after
the join: ``summarise`` over ``ParquetColumns`` of the table, and the summary written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.peak import ROOT, peak_mb

SCENARIO = ROOT / "scenarios" / "brigade.yaml"
BASE = 10_000  # replications simulated for real; larger tables repeat their rows


def simulate_base(n: int, tmp: Path) -> Path:
    """The replications table of a real ``simulate`` run of ``n`` brigade replications."""
    out = tmp / f"base{n}"
    cmd = [sys.executable, "-m", "tripwire", "run", str(SCENARIO), "-n", str(n)]
    subprocess.run([*cmd, "--out", str(out), "-q"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return out / "brigade" / "replications.parquet"


def write_parts(src: Path, folder: Path, rows: int) -> int:
    """The chunk parts of a ``rows``-replication run in ``folder``: ``src``'s rows over and
    over, same schema, replications renumbered 0 .. rows - 1, in chunks of
    ``runner.chunk_size`` replications for this machine's cores. Returns the chunk size."""
    import pyarrow as pa  # here, not above: see child()
    import pyarrow.parquet as pq

    from tripwire.runner import chunk_size  # here: the children need not import the model

    base = pq.read_table(src)
    rep = base.schema.get_field_index("replication")
    size = chunk_size(rows, os.cpu_count() or 1)
    folder.mkdir(parents=True)
    for start in range(0, rows, size):
        n = min(size, rows - start)
        pieces: list[pa.Table] = []
        at = start % base.num_rows
        while sum(p.num_rows for p in pieces) < n:
            pieces.append(base.slice(at, n - sum(p.num_rows for p in pieces)))
            at = 0
        part = pa.concat_tables(pieces)
        ids = pa.array(range(start, start + n), base.schema.field(rep).type)
        part = part.set_column(rep, base.schema.field(rep), ids)
        pq.write_table(part, folder / f"rep-{start:09d}.parquet")
    return size


def build_table(src: Path, dest: Path, rows: int) -> dict[str, float | None]:
    """A table of ``rows`` rows joined as a run joins it (``write_parts``, then
    ``consolidate`` in a fresh process); the join's ``peak_mb``, ``wall``, ``seconds``
    (the join alone), ``chunk`` (rows a part) and ``groups`` (row groups of the table)."""
    import pyarrow.parquet as pq

    parts = dest.with_suffix(".parts")
    chunk = write_parts(src, parts, rows)
    cmd = [sys.executable, "-m", "benchmarks.summary_phase", "join", str(parts), str(dest)]
    mb, wall = peak_mb(cmd)
    shutil.rmtree(parts)
    seconds = json.loads(dest.with_suffix(".join").read_text())["seconds"]
    groups = pq.ParquetFile(dest).num_row_groups
    return {"peak_mb": mb, "wall": wall, "seconds": seconds, "chunk": chunk, "groups": groups}


def join(parts: Path, dest: Path) -> None:
    from tripwire.results import consolidate

    t0 = time.perf_counter()
    consolidate(sorted(parts.glob("rep-*.parquet")), dest)
    seconds = time.perf_counter() - t0
    dest.with_suffix(".join").write_text(json.dumps({"seconds": seconds}))


def measure(table: Path) -> dict[str, float | None]:
    """The summary phase of ``table`` in a fresh process: ``peak_mb`` (peak RSS), ``wall``
    (the process, start-up included), ``seconds`` (opening the table, summarising and
    writing the summary) and ``open_mb`` (RSS added by opening the table: the footer)."""
    out = table.with_suffix(".summary.json")
    mb, wall = peak_mb([sys.executable, "-m", "benchmarks.summary_phase", str(table), str(out)])
    return {"peak_mb": mb, "wall": wall, **json.loads(out.with_suffix(".seconds").read_text())}


def rss_mb() -> float | None:
    """This process's resident memory now, MB (Linux only)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def child(table: Path, out: Path) -> None:
    """The summary phase, as a run's process does it. pyarrow is first loaded by tripwire
    here, as in ``simulate`` (importing ``tripwire`` picks Arrow's allocator, which must
    happen before pyarrow loads), so this module imports pyarrow only inside functions."""
    from tripwire.loader import load_scenario
    from tripwire.results import ParquetColumns, write_json
    from tripwire.summary import summarise

    s = load_scenario(SCENARIO).scenario
    meta = {  # as campaign.summarise_run
        "scenario": s.name,
        "posture": s.posture,
        "seed": 0,
        "horizon_hours": s.horizon_hours,
        "buildup_step_hours": s.buildup_step_hours,
        "requirement": s.requirement,
        "adversary": s.adversary,
        "file": str(SCENARIO),
    }
    t0, before = time.perf_counter(), rss_mb()
    columns = ParquetColumns(table)
    after = rss_mb()
    write_json(out, summarise(columns, meta, s.checkpoints_hours))
    seconds = time.perf_counter() - t0
    opened = after - before if after is not None and before is not None else None
    out.with_suffix(".seconds").write_text(json.dumps({"seconds": seconds, "open_mb": opened}))


if __name__ == "__main__":
    if sys.argv[1] == "join":
        join(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        child(Path(sys.argv[1]), Path(sys.argv[2]))
