"""Can the model say no? Search the declared ranges for a world where a policy is not best.

A robustness design (``design: {method: robustness}``) samples worlds over the declared
ranges of the uncertainties and runs every policy in each; the analysis counts where
each policy is the best (:mod:`sim.analysis.robustness`). A policy that is best in every
sampled world may still lose in a corner the sample missed. :func:`search` looks there
(issue 28, item 5: "a search over the declared ranges ... finds, for each strategy,
worlds in which it is not the best"):

1. **The designed sample**: the design's own worlds (its Latin hypercube, or its
   posterior draws), each run under every policy with the sweep's seeds (common random
   numbers: :meth:`sim.experiments.Plan.run_seed`), so a world here is the world the
   sweep ran. The *margin* of the policy in a world is its mean over replications of
   the measure minus the best other policy's (oriented so that more is better; paired,
   the same seeds): below 0 it is not the best, above 0 it is.
2. **An optimiser**, only when the sample holds no world of the kind sought: a
   (1+lambda) evolution strategy (Rechenberg's, with the one-fifth success rule for its
   step) in the unit cube of the declared ranges, started from the sampled world
   closest to the kind sought, every candidate run with the same seeds (so a step is
   the world's doing, not seed luck), ``generations`` steps of ``offspring`` candidates.
   It moves only within the ranges the design declares (never beyond them); a factor a
   design draws from a calibration's posterior moves within the range of its draws.
3. **A check**: the world found is run again with ``confirm`` fresh seeds; it counts as
   found (``confirmed``) only when the 95% t interval of the margin over those seeds
   lies wholly on the side sought. A world where the policy loses by seed luck is not
   an answer.

The search reports what it finds, whichever way it comes out; nothing in it knows the
strategies, and it narrows no range. Seeds derive from the experiment's root seed
(branch :data:`sim.experiments.seeds.SEARCH`), so the same file gives the same search.
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.errors import UserError
from sim.experiments.schema import POLICY, WORLD, RobustnessDesign
from sim.experiments.seeds import SEARCH, tree_seed

#: What a search looks for: a world where the policy is not the best, or one where it is.
WANTS = ("not_best", "best")
#: Level of the confirming interval.
CONF = 0.95
#: Runs kept in this process, so searches of one design (several policies, measures,
#: both kinds) share the runs of its sample: a run's outcomes by its model, parameters,
#: seed and steps (the same key gives the same outcomes: same seed, same result).
_RUNS: dict[str, dict[str, float]] = {}
MAX_CACHED = 20_000


def _key(model: str, params: dict[str, Any], seed: int, steps: int | None) -> str:
    return json.dumps([model, params, int(seed), steps], sort_keys=True, default=str)


@dataclass
class Found:
    """What a search found (or did not).

    Attributes:
        policy: The policy searched for.
        measure: The measure, and ``better``: ``max`` or ``min``.
        want: ``not_best`` or ``best``.
        found: A world of the kind sought was found and confirmed.
        world: That world's uncertainties (or the closest world tried, when none was).
        where: ``sample`` (world ``world_index`` of the designed sample) or
            ``optimiser`` (generation ``generation``).
        margin: The policy's margin there on the search's seeds (oriented: above 0 it is
            the best, below 0 not), and ``rival``: the best other policy there.
        confirm_margin: Mean margin over the confirming seeds, with its interval
            ``confirm_low``, ``confirm_high``.
        n_worlds: Worlds tried (sample and optimiser); ``n_runs``: model runs made (runs
            an earlier search of this process made are reused, not counted).
        sample_margins: The margin in each sampled world.
    """

    policy: str
    measure: str
    better: str
    want: str
    found: bool = False
    world: dict[str, float] = field(default_factory=dict)
    where: str = ""
    world_index: int | None = None
    generation: int | None = None
    margin: float = math.nan
    rival: str = ""
    confirm_margin: float = math.nan
    confirm_low: float = math.nan
    confirm_high: float = math.nan
    n_worlds: int = 0
    n_runs: int = 0
    sample_margins: list[float] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph in words."""
        what = "is not the best" if self.want == "not_best" else "is the best"
        head = f"{self.policy} on {self.measure} ({self.better}): a world where it {what}: "
        if not self.found:
            return (
                head + f"none found in {self.n_worlds} worlds ({self.n_runs} runs made); the "
                f"closest margin was {self.margin:+.4g}"
                + (
                    f" (confirming seeds: {self.confirm_margin:+.4g}, 95% interval "
                    f"{self.confirm_low:+.4g} to {self.confirm_high:+.4g})"
                    if math.isfinite(self.confirm_margin)
                    else ""
                )
            )
        at = (
            f"sampled world {self.world_index}"
            if self.where == "sample"
            else f"optimiser generation {self.generation}"
        )
        return (
            head + f"found ({at}; {self.n_worlds} worlds, {self.n_runs} runs made): margin "
            f"{self.confirm_margin:+.4g} against {self.rival} (95% interval "
            f"{self.confirm_low:+.4g} to {self.confirm_high:+.4g} over the confirming seeds)"
        )


def search(
    path: str | Path,
    policy: str,
    measure: str,
    want: str = "not_best",
    *,
    n_sample: int | None = None,
    generations: int = 8,
    offspring: int = 4,
    replications: int | None = None,
    confirm: int = 8,
    step: float = 0.2,
    workers: int = 1,
    tries: int = 3,
) -> Found:
    """Search a robustness design's declared ranges for a world of the kind sought.

    Args:
        path: The experiment file (its design is a robustness design).
        policy: The policy's label.
        measure: One of the design's measures (its direction is the design's).
        want: ``not_best`` (a world where the policy loses to another) or ``best``.
        n_sample: How many of the design's worlds to try first (default: all).
        generations: Most optimiser steps when the sample finds none (0: no optimiser).
        offspring: Candidates per optimiser step.
        replications: Seeds per world in the sample and the optimiser (default: the
            experiment's).
        confirm: Fresh seeds the world found is run again with.
        step: The optimiser's first step, as a share of each range.
        workers: Worker processes (1: this process).
        tries: Sampled worlds of the kind sought (on the sample's seeds) checked with
            the confirming seeds before the optimiser is tried, most extreme first.

    Returns:
        The :class:`Found`.

    Raises:
        UserError: Not a robustness design, an unknown policy or measure, or a bad
            setting.
    """
    from sim.experiments.executor import open_pool
    from sim.experiments.plan import plan_experiment

    plan = plan_experiment(path)
    where = plan.path
    if plan.method != "robustness":
        raise UserError(f"{where}: search needs a robustness design (design.method: robustness)")
    design = typing.cast(RobustnessDesign, plan.experiment.design)
    policies = list(plan.extra["policies"])
    if policy not in policies:
        raise UserError(f"{where}: no policy {policy!r}; policies: {', '.join(policies)}")
    if measure not in design.measures:
        raise UserError(
            f"{where}: {measure!r} is not one of design.measures ({', '.join(design.measures)})"
        )
    if want not in WANTS:
        raise UserError(f"search: want {want!r}; give one of {', '.join(WANTS)}")
    for name, value, least in (
        ("generations", generations, 0),
        ("offspring", offspring, 1),
        ("confirm", confirm, 2),
        ("workers", workers, 1),
    ):
        if value < least:
            raise UserError(f"search: {name} must be at least {least} (got {value})")
    better = design.measures[measure]
    sign = 1.0 if better == "max" else -1.0
    reps = replications or plan.experiment.replications
    names = list(plan.extra["world_factors"])
    lows = np.array([plan.ranges[n][0] for n in names], dtype=float)
    highs = np.array([plan.ranges[n][1] for n in names], dtype=float)
    span = np.where(highs > lows, highs - lows, 1.0)  # a posterior's one value: no move
    first = plan.design[plan.design[POLICY] == policies[0]].set_index(WORLD)
    sample = first[names].to_numpy(float)[: n_sample or len(first)]
    run_fn = plan.model.run_fn()
    steps = plan.experiment.steps
    root = plan.experiment.root_seed
    found = Found(policy, measure, better, want)

    def params(values: np.ndarray, label: str) -> dict[str, Any]:
        row = {POLICY: label, WORLD: 0, **dict(zip(names, values, strict=True))}
        return plan.params_for(plan.applied(row))

    def margins(pool: Any, worlds: list[np.ndarray], seeds: list[list[int]]) -> list[Any]:
        """Per world: the paired margins over its seeds and the best rival's name."""
        jobs = [
            (params(w, p), s, steps)
            for w, ss in zip(worlds, seeds, strict=True)
            for p in policies
            for s in ss
        ]
        keys = [_key(plan.model.name, *job) for job in jobs]
        todo = {k: job for k, job in zip(keys, jobs, strict=True) if k not in _RUNS}
        for k, out in zip(todo, pool.imap(run_fn, list(todo.values())), strict=True):
            if len(_RUNS) >= MAX_CACHED:
                _RUNS.clear()
            _RUNS[k] = out
        values = [float(_RUNS[k][measure]) for k in keys]
        found.n_runs += len(todo)
        out, i = [], 0
        for ss in seeds:
            k = len(ss)
            v = sign * np.array(values[i : i + k * len(policies)]).reshape(len(policies), k)
            i += k * len(policies)
            me = policies.index(policy)
            others = [j for j in range(len(policies)) if j != me]
            r = others[int(np.argmax(v[others].mean(axis=1)))]
            paired = v[me] - v[r]  # seed by seed, against the best other on average
            out.append((paired, float(paired.mean()), policies[r]))
        return out

    def good(m: float) -> bool:
        return m < 0 if want == "not_best" else m > 0

    def score(m: float) -> float:  # lower is closer to the kind sought
        return m if want == "not_best" else -m

    from scipy.stats import t

    fresh = [[tree_seed(root, SEARCH, 1, r) for r in range(confirm)]]
    quantile = float(t.ppf(0.5 + CONF / 2, confirm - 1))

    def check(pool: Any, world: np.ndarray) -> bool:
        """Run ``world`` with the confirming seeds; record and return the verdict."""
        paired, mean, _ = margins(pool, [world], fresh)[0]
        half = quantile * float(paired.std(ddof=1)) / math.sqrt(len(paired))
        found.confirm_margin = mean
        found.confirm_low, found.confirm_high = mean - half, mean + half
        return found.confirm_high < 0 if want == "not_best" else found.confirm_low > 0

    def keep(world: np.ndarray, m: float, rival: str) -> None:
        found.world = {n: float(v) for n, v in zip(names, world, strict=True)}
        found.margin, found.rival = float(m), rival

    with open_pool(workers) as pool:
        keys = list(first.index[: len(sample)])
        seeds = [[plan.run_seed(_row(plan, policies[0], k), r) for r in range(reps)] for k in keys]
        results = margins(pool, list(sample), seeds)
        found.n_worlds = len(sample)
        found.sample_margins = [float(m) for _, m, _ in results]
        order = sorted(range(len(results)), key=lambda j: score(results[j][1]))
        found.where, found.world_index = "sample", int(keys[order[0]])
        keep(sample[order[0]], results[order[0]][1], results[order[0]][2])
        for j in [j for j in order if good(results[j][1])][:tries]:
            found.world_index = int(keys[j])
            keep(sample[j], results[j][1], results[j][2])
            if check(pool, sample[j]):
                found.found = True
                return found
        if not generations:
            return found
        # The optimiser: from the sampled world closest to the kind sought, same seeds.
        crn = [[tree_seed(root, SEARCH, 0, r) for r in range(reps)]]
        rng = np.random.default_rng(tree_seed(root, SEARCH, 2))
        current = sample[order[0]]
        unit = (current - lows) / span
        current_m = margins(pool, [current], crn)[0][1]
        found.n_worlds += 1
        sigma = step
        for gen in range(1, generations + 1):
            kids = np.clip(unit + rng.normal(0.0, sigma, (offspring, len(names))), 0, 1)
            kids[:, highs <= lows] = 0.0
            worlds = [lows + k * span for k in kids]
            res = margins(pool, worlds, crn * offspring)
            found.n_worlds += offspring
            j = int(np.argmin([score(m) for _, m, _ in res]))
            if score(res[j][1]) >= score(current_m):
                sigma *= 0.7  # the one-fifth rule, roughly: shrink on failure, grow on success
                continue
            sigma = min(sigma * 1.5, 0.5)
            unit, current, current_m = kids[j], worlds[j], res[j][1]
            found.where, found.generation, found.world_index = "optimiser", gen, None
            keep(current, current_m, res[j][2])
            if good(current_m) and check(pool, current):
                found.found = True
                return found
    return found


def _row(plan: Any, label: str, world: int) -> int:
    """The design row of ``label`` in ``world`` (its seed is the world's)."""
    d = plan.design
    return int(np.flatnonzero((d[POLICY] == label).to_numpy() & (d[WORLD] == world).to_numpy())[0])
