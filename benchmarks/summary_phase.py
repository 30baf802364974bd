"""The summary phase alone, on a large replications table (issue 16; run on demand).

    python -m benchmarks.summary_phase TABLE OUT   # the child: summarise TABLE as a run does

Simulating 10^6 brigade replications takes about 1.5 h on 2 cores, so the large tables are
built from real simulated rows instead: ``simulate scenarios/brigade.yaml -n 10000`` is run
once, and a table of N rows repeats its row groups (2,000 rows each, as
``results.consolidate`` writes them) until N rows are written, with the same schema, the
same row-group size and the replication column renumbered 0 .. N-1. The 10^3 table is the
first 1,000 rows, which are exactly what a 10^3 run writes (a replication's draws depend on
its index and the seed only). A table of 10^6 rows so holds each of 10^4 real rows 100
times: its Parquet layout (500 row groups, the footer with them) and its column sizes are a
10^6 run's, its number of distinct values is not (the summary's memory does not depend on
it: the Kaplan-Meier walk and the build-up histograms are bounded whatever the values).
The child then does what ``campaign.summarise_run`` does after the join: ``summarise`` over
``ParquetColumns`` of the table, and the summary written.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.peak import ROOT, peak_mb
from tripwire.results import ROW_GROUP  # the row groups of a joined table

SCENARIO = ROOT / "scenarios" / "brigade.yaml"
BASE = 10_000  # replications simulated for real; larger tables repeat their row groups


def simulate_base(n: int, tmp: Path) -> Path:
    """The replications table of a real ``simulate`` run of ``n`` brigade replications."""
    out = tmp / f"base{n}"
    cmd = [sys.executable, "-m", "tripwire", "run", str(SCENARIO), "-n", str(n)]
    subprocess.run([*cmd, "--out", str(out), "-q"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return out / "brigade" / "replications.parquet"


def build_table(src: Path, dest: Path, rows: int) -> None:
    """``rows`` rows: ``src``'s row groups over and over (the last cut short), same schema,
    row groups of ``ROW_GROUP``, replications renumbered 0 .. rows - 1."""
    f = pq.ParquetFile(src)
    schema = f.schema_arrow
    rep = schema.get_field_index("replication")
    written = 0
    with pq.ParquetWriter(dest, schema) as writer:
        while written < rows:
            for i in range(f.num_row_groups):
                group = f.read_row_group(i, use_threads=False).slice(0, rows - written)
                ids = pa.array(range(written, written + group.num_rows), schema.field(rep).type)
                group = group.set_column(rep, schema.field(rep), ids)
                writer.write_table(group, row_group_size=ROW_GROUP)
                written += group.num_rows
                if written >= rows:
                    break


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
    child(Path(sys.argv[1]), Path(sys.argv[2]))
