"""First and total Sobol' indices of a stopped Sobol' sweep, from its complete base points.

A sweep numbers its runs row by row (run i is design row i // replications) and a
Sobol' sample (second order off) comes in blocks of k + 2 rows a base point (A, the k
points with one factor of B, B), so the complete blocks at the front of a stopped sweep
are a smaller Sobol' design with every seed. This analyses them exactly as
``nextpractice analyze`` analyses a whole sweep (the same SALib call, resamples,
confidence level and seed, :func:`sim.analysis.analyze.sobol_floor`, the noise share and
the chart) and writes ``sobol_indices.csv``, the charts and ``PARTIAL.txt`` (how many
base points) to OUT. It gave docs/sensitivity.md's Sobol' figures while the plateau
sweep stood stopped at 90 of 128 base points; the shipped figures are now the finished
sweep's, from ``nextpractice analyze``.

    .venv/bin/python scripts/sobol_prefix.py SWEEP_DIR OUT
"""

import json
import sys
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SALib.analyze import sobol  # noqa: E402

from sim.analysis.analyze import (  # noqa: E402
    CONF_LEVEL,
    N_RESAMPLES,
    _clear,
    _sobol_chart,
    first_order_clear,
    noise_share,
    sobol_floor,
)
from sim.experiments.seeds import analysis_seed  # noqa: E402


def complete_blocks(done: set[tuple[int, int]], k: int, reps: int) -> int:
    """How many base points, from the first, have every run of their k + 2 rows done."""
    n = 0
    while all(
        (row, rep) in done for row in range(n * (k + 2), (n + 1) * (k + 2)) for rep in range(reps)
    ):
        n += 1
    return n


def main(sweep: Path, out: Path) -> None:
    """Analyse the complete base points of the Sobol' sweep in ``sweep``; write to ``out``."""
    manifest = json.loads((sweep / "manifest.json").read_text())
    if manifest["experiment"]["design"].get("second_order", True):
        sys.exit(f"{sweep}: a second-order design; this reads first and total indices only")
    problem = manifest["problem"]
    names, reps = problem["names"], int(manifest["replications"])
    k = len(names)
    runs = pd.concat(pd.read_parquet(f) for f in sorted((sweep / "results").glob("*.parquet")))
    runs = runs[runs["status"] == "ok"]
    n = complete_blocks(set(zip(runs["design_row"], runs["replication"], strict=True)), k, reps)
    if n < 2:
        sys.exit(f"{sweep}: fewer than two complete base points")
    runs = runs[runs["design_row"] < n * (k + 2)]
    out.mkdir(parents=True, exist_ok=True)
    tables = []
    for outcome in manifest["experiment"]["outcomes"]:
        y = runs.pivot(index="design_row", columns="replication", values=outcome).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = sobol.analyze(
                problem,
                y.mean(axis=1),
                calc_second_order=False,
                num_resamples=N_RESAMPLES,
                conf_level=CONF_LEVEL,
                seed=analysis_seed(manifest["root_seed"]),
            )
        floor = sobol_floor(y, k, False)
        table = pd.DataFrame(
            {
                "outcome": outcome,
                "factor": names,
                "kind": [manifest["factors"][name]["kind"] for name in names],
                "S1": si["S1"],
                "S1_conf": si["S1_conf"],
                "ST": si["ST"],
                "ST_conf": si["ST_conf"],
                "noise_floor": floor,
                "S1_clear": first_order_clear(
                    si["S1"], si["S1_conf"], floor, _clear(si["ST"], si["ST_conf"], floor)
                ),
                "ST_clear": _clear(si["ST"], si["ST_conf"], floor),
                "noise_share": noise_share(y),
            }
        )
        tables.append(table)
        _sobol_chart(out, outcome, table, pd.DataFrame())
    pd.concat(tables).to_csv(out / "sobol_indices.csv", index=False)
    planned = manifest["experiment"]["design"]["n"]
    used = n * (k + 2) * reps
    (out / "PARTIAL.txt").write_text(f"first {n} of {planned} base points, {used} runs\n")
    print(f"first {n} of {planned} base points ({used:,} runs): {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
