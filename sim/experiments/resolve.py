"""More seeds where a world's best two policies are within seed noise (robustness designs).

A robustness design runs every world under every policy with the same seeds, so in a
world the difference between two policies is paired. With a few replications a world,
the best policy of a measure is sometimes best by seed luck: its lead over the second
is smaller than the noise of that lead. Counting such a world for the policy that
happened to lead makes best-share a measure of seed noise there. So:

**The rule** (:func:`within_noise`). In world ``w`` with ``n_w`` replications, let
``d_w`` be the mean over replications of (best minus second-best policy), oriented so
that better is larger. The noise of that difference is estimated by pooling over every
world the replication-to-replication variance of the same pair's paired difference,
``s^2 = sum_w sum_r (d_wr - d_w)^2 / sum_w (n_w - 1)`` (the pooled variance of a
one-way layout; with two replications a world, a world's own variance has one degree
of freedom and its t quantile is 12.7, while the pooled one has as many degrees of
freedom as there are worlds). The world is **within noise** when
``|d_w| <= t(0.975, df) * s / sqrt(n_w)``: the 95% interval of the lead holds 0.
Pooling assumes the noise of a pair's difference is alike across worlds; where it is
larger than the pool says, a world is called decided too soon.

**Adding seeds** (``design.resolve`` in an experiment file; the sweep runs the rounds,
:func:`sim.experiments.sweep.run_sweep`). After the
sweep, every world within noise for any of ``resolve.measures`` runs ``batch`` more
replications under every policy (its seeds continue the world's own: replication
``r`` of world ``w`` has the same seed whether it ran in the sweep or in a round,
:meth:`sim.experiments.Plan.run_seed`). Round after round, on all the replications so
far, until no world of the last round is within noise or they have
``max_replications``. A world once decided is not reopened (rounds only shrink), so
every world of a round has the same number of replications and the rounds end. Each
round is a sweep of its own in ``rounds/round-NN/`` (resumable, checked, same files on
any number of workers); ``resolve.json`` lists the rounds.

**In the analysis** (:mod:`sim.analysis.robustness`), worlds still within noise after
the rounds count as a tie between their best two policies: each gets the world in its
best-share, and ``robustness.csv`` says how many worlds were within noise.
"""

from __future__ import annotations

import json
import math
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.schema import WORLD

#: The folder of a robustness sweep's rounds of added seeds, and the record of them.
ROUNDS = "rounds"
RECORD = "resolve.json"
#: Level of the interval of a world's lead.
CONF = 0.95


def within_noise(
    runs: pd.DataFrame, measure: str, better: str, policies: list[str], conf: float = CONF
) -> pd.DataFrame:
    """Per world: its best and second-best policy of a measure, the lead, and whether it is noise.

    Args:
        runs: Successful runs: ``world``, ``policy``, ``replication`` and the measure.
        measure: The outcome.
        better: ``"max"`` or ``"min"``.
        policies: The policies, in the design's order (ties keep that order).
        conf: Level of the lead's interval.

    Returns:
        Index ``world``; columns ``best``, ``second``, ``lead`` (best minus second, in
        the measure's unit, at least 0), ``half_width`` (of the lead's interval, from
        the pooled noise), ``n`` (replications with every policy) and ``within``
        (True when ``lead <= half_width``). Worlds without two replications under every
        policy are left out.
    """
    from scipy.stats import t

    sign = 1.0 if better == "max" else -1.0
    wide = runs.pivot_table(
        index=[WORLD, "replication"], columns="policy", values=measure, aggfunc="first"
    )
    wide = (sign * wide.reindex(columns=policies)).dropna()
    if wide.empty:
        return pd.DataFrame(columns=["best", "second", "lead", "half_width", "n", "within"])
    by_world = wide.groupby(level=WORLD)
    means = by_world.mean()
    n = by_world.size()
    order = np.argsort(-means.to_numpy(), axis=1, kind="stable")
    best = np.asarray(policies)[order[:, 0]]
    second = np.asarray(policies)[order[:, 1]]
    # Pooled variance of each pair's paired difference, over every world.
    pooled: dict[tuple[str, str], tuple[float, int]] = {}
    for a, b in {tuple(sorted(p)) for p in zip(best, second, strict=True)}:
        d = wide[a] - wide[b]
        dev = d - d.groupby(level=WORLD).transform("mean")
        df = int((n - 1).clip(lower=0).sum())
        pooled[(a, b)] = (float((dev**2).sum() / df) if df > 0 else math.nan, df)
    rows = []
    for w, b1, b2, k in zip(means.index, best, second, n, strict=True):
        var, df = pooled[typing.cast(tuple[str, str], tuple(sorted((b1, b2))))]
        lead = float(means.at[w, b1] - means.at[w, b2])
        if k < 2 or df < 1 or not math.isfinite(var):
            half = math.inf
        else:
            half = float(t.ppf(0.5 + conf / 2, df) * math.sqrt(var / k))
        rows.append((w, b1, b2, lead, half, int(k), lead <= half))
    out = pd.DataFrame(rows, columns=[WORLD, "best", "second", "lead", "half_width", "n", "within"])
    return out.set_index(WORLD)


def ok_runs(out: Path, columns: list[str]) -> pd.DataFrame:
    """The successful runs of a sweep folder and its rounds: ``columns`` and ``round``."""
    import pyarrow.dataset as ds

    from sim.experiments.chunks import read_manifest, trusted_chunks

    frames = []
    for k, folder in enumerate([out, *round_folders(out)]):
        if not (folder / "manifest.json").is_file():
            continue  # a round recorded but not started
        manifest = read_manifest(folder / "manifest.json")
        files = [str(p) for p in trusted_chunks(folder, manifest).values()]
        if not files:
            continue
        table = ds.dataset(files, format="parquet").to_table(columns=[*columns, "status"])
        frame = table.to_pandas()
        frame = frame[frame["status"] == "ok"].drop(columns="status")
        frames.append(frame.assign(round=k))
    if not frames:
        return pd.DataFrame(columns=[*columns, "round"])
    return pd.concat(frames, ignore_index=True)


def round_folders(out: Path) -> list[Path]:
    """The folders of a sweep's rounds of added seeds, in order (none: an empty list)."""
    record = Path(out) / RECORD
    if not record.is_file():
        return []
    rounds = json.loads(record.read_text(encoding="utf-8")).get("rounds", [])
    return [Path(out) / ROUNDS / f"round-{r['round']:02d}" for r in rounds]


def ok_runs_of(folder: Path, columns: list[str]) -> pd.DataFrame:
    """The successful runs of one sweep folder (not its rounds): the given columns."""
    import pyarrow.dataset as ds

    from sim.experiments.chunks import chunk_files

    files = [str(p) for p in chunk_files(folder / "results").values()]
    if not files:
        return pd.DataFrame(columns=columns)
    frame = ds.dataset(files, format="parquet").to_table(columns=[*columns, "status"]).to_pandas()
    return frame[frame["status"] == "ok"].drop(columns="status").reset_index(drop=True)


def round_plan(plan: Any, k: int, worlds: list[int], first: int, replications: int) -> Any:
    """The plan of round ``k``: every policy in ``worlds``, replications ``first`` onwards."""
    from sim.experiments.plan import Plan

    design = plan.design[plan.design[WORLD].isin(worlds)].reset_index(drop=True)
    design.index = pd.RangeIndex(len(design), name="design_row")
    return Plan(
        path=plan.path,
        name=f"{plan.name} round {k}",
        experiment=plan.experiment.model_copy(update={"replications": replications}),
        model=plan.model,
        base=plan.base,
        factors=plan.factors,
        ranges=plan.ranges,
        problem=plan.problem,
        design=design,
        outcomes=plan.outcomes,
        bases=plan.bases,
        seed_column=plan.seed_column,
        extra=plan.extra,
        first_replication=first,
        part_of={"fingerprint": plan.fingerprint(), "round": k, "worlds": worlds},
    )


def write_record(
    path: Path,
    measures: list[str],
    rounds: list[dict[str, Any]],
    still: dict[str, list[int]] | None,
) -> dict[str, Any]:
    """Write ``resolve.json`` (the rule, the rounds, the worlds still within noise) at once."""
    record = {
        "rule": "a world is within noise when the 95% interval of its best-minus-second "
        "lead (pooled noise over worlds) holds 0 (sim.experiments.resolve)",
        "measures": measures,
        "rounds": rounds,
        "within_noise": still,
    }
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return record
