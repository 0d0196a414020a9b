"""Trace why next practice loses more to top-down in bigger systems (docs/size.md, issue 28 item 7).

A diagnostic, not a fit: for each system size and each *arm* (the defaults, or one
part of what follows a field trial turned off or neutralised within its declared
range), run top-down and next practice on the same seeds (replication ``r`` has
:func:`sim.experiments.seeds.run_seed`'s seed, as ``nextpractice compare`` gives it)
and record final mean performance, with the quantities that say why for next
practice: the share of schools that were ever field-trial sites, the share running
a practice a trial proved and the fade applied to it there, the trials' verdicts
(how many proven, how many of those false positives), every change of the standing
mandate and what it swapped in and out, and the centre's spend (:data:`FIELDS`).
Nothing in the model changes; each run is appended to ``runs.csv`` in the output
folder as it finishes, so an interrupted trace resumes where it stopped.

    nice -n 10 .venv/bin/python scripts/size_trace.py OUT [--sizes 200,2000]
        [--arms baseline,fade_off,...] [-r 10] [--workers 2]
    .venv/bin/python scripts/size_trace.py OUT --table [--drift 2000,200]   # print the tables

Arms (:data:`ARMS`): ``both`` overrides apply to both strategies, ``np`` only to next
practice (a part only next practice uses, or one that would change top-down's own
strategy), ``per_200`` overrides are multiplied by ``n_schools / 200`` (a count per
system made a count per 200 schools), ``both_total`` ones are divided by ``n_schools``
for both strategies (a rate per school made a fixed total for the system).
"""

from __future__ import annotations

import argparse
import csv
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.core.state import ABANDONED, CREATED, EMPTY  # noqa: E402
from sim.experiments.seeds import run_seed  # noqa: E402
from sim.model.model import NextPracticeModel  # noqa: E402
from sim.model.scenario import load_scenario  # noqa: E402

#: Each arm: overrides for both strategies, for next practice only, per 200 schools, or
#: as a total for the system (see the module docstring).
ARMS: dict[str, dict[str, dict]] = {
    "baseline": {},
    "no_trials": {"np": {"field_trials.n_trials": 0}},
    "fade_off": {"both": {"rel_effect_spread": 1.0}},
    "dip_off": {"both": {"practice_effects.rel_dip": 0.0}},
    "no_mandate": {"np": {"mandate.n_mandate": 0}},
    "no_broker": {"np": {"brokering.n_broker": 0.0}},
    "monitor_off": {"both": {"monitoring.dur_monitor": 120.0}},
    "trials_per_school": {"per_200": {"field_trials.n_trials": 3}},
    "sites_per_school": {"per_200": {"n_trial_sites": 6}},
    "broker_per_school": {"per_200": {"brokering.n_broker": 2.0}},
    # As many inventions a month in the whole system as 500 schools make at the default
    # (0.004 x 500 = 2.0): 0.01 a school at 200, 0.002 at 1,000, 0.001 at 2,000, all
    # inside p_invent's sweep [0.001, 0.01].
    "ideas_per_system": {"both_total": {"recombine.p_invent": 2.0}},
}

#: The columns of ``runs.csv``, one row a run. Shares are of schools unless said;
#: effects are true effects in logits; "at scale" is what a practice keeps at a school
#: that neither invented nor trialled it (``rel_effect_spread`` of a practice born in
#: the run). Trial and mandate columns are next practice's (top-down runs no trials).
FIELD_MEANINGS = {
    "arm": "the arm (ARMS)",
    "n_schools": "schools in the system",
    "replication": "replication r (its seed is compare's)",
    "seed": "the run's seed",
    "strategy": "top_down or next_practice",
    "perf_final": "mean performance at the end (share of pupils at the standard)",
    "share_ever_site": "share of schools that were ever a field-trial site",
    "share_sites_now": "share of schools at a trial site at the end",
    "share_running_proven": "share of schools running a practice a trial proved, at the end",
    "fade_mean_proven": "share of trial-proven practices' effect kept where they are run",
    "share_full_effect_proven": "share of holdings of trial-proven practices at full effect "
    "(the school invented or trialled it)",
    "n_trials_done": "trials concluded in the run",
    "n_proven": "trials that proved their practice",
    "n_false_pos": "proven trials whose true gain was below threshold_proven",
    "mean_true_gain_proven": "mean true gain of a proven practice at its sites over what it "
    "displaced",
    "mean_est_proven": "mean published estimate of a proven practice's trial",
    "gain_proven_mean": "mean over schools of the summed true effects (fade applied, at full "
    "depth, before any bound) of the trial-proven practices each runs at the end",
    "spend_centre_school_year": "the centre's spend, GBP a school a year",
    "shortfall_centre": "cost of the centre's actions not done for want of money, GBP k",
    "n_mandated_distinct": "practices ever in the standing mandate",
    "n_mandate_changes": "months in which the set of mandated practices changed",
    "mandated_per_school": "mandated take-ups in the run, per school",
    "effect_mandated_scale": "mean over months of the mandated practices' effect at scale",
    "n_swaps": "pairs (practice in, practice out) over the mandate's changes",
    "share_swaps_worse": "share of swaps whose incoming practice is worse at scale",
    "swap_gain": "mean effect at scale of the incoming practice minus the outgoing one",
    "share_out_monitored": "share of swaps whose outgoing practice had evidence beyond its "
    "own trial (national monitoring's reads)",
    "share_out_withdrawn": "share of swaps whose outgoing practice was withdrawn (abandoned)",
    "est_in_minus_out": "mean published estimate of the incoming practice minus the outgoing",
    "gain_sites_minus_others": "gain in performance of next practice's trial sites minus the "
    "other schools' (in top-down's row: the same schools, under top-down)",
}
FIELDS = tuple(FIELD_MEANINGS)


#: England's shape (``england.yaml``): 21,000 schools, 152 authorities, 6 towns.
ENGLAND = {"n_schools": 21000, "n_authorities": 152, "n_towns": 6}


def structure_for(n: int) -> dict:
    """System shape for ``n`` schools: England's at its size, else 100 schools an authority.

    ``system.yaml``'s 1,000 schools in 10 authorities (and its 4 towns) at other sizes, as
    ``docs/size.md`` measured them (``--set n_schools=2000 --set n_authorities=20``).
    """
    if n == ENGLAND["n_schools"]:
        return dict(ENGLAND)
    return {"n_schools": n, "n_authorities": max(1, n // 100)}


def overrides_for(arm: str, n: int, strategy: str) -> dict:
    """The parameters set for one run: size, then the arm's overrides for this strategy."""
    spec = ARMS[arm]
    out = structure_for(n)
    out.update(spec.get("both", {}))
    for key, total in spec.get("both_total", {}).items():
        out[key] = total / n
    if strategy == "next_practice":
        out.update(spec.get("np", {}))
        for key, per_200 in spec.get("per_200", {}).items():
            value = per_200 * n / 200
            out[key] = type(per_200)(round(value)) if isinstance(per_200, int) else value
    return out


def run_pair(job: tuple[str, int, int, int]) -> list[dict]:
    """Next practice, then top-down on the same seed; the rows in that order.

    Top-down's row also gets ``gain_sites_minus_others`` for the schools that were
    field-trial sites in next practice's run (the same schools: a seed gives the same
    starting system whatever the strategy), so the two differ by what being a site did.
    """
    arm, n, r, seed = job
    np_row, sites = run_one(arm, n, r, seed, "next_practice")
    td_row, _ = run_one(arm, n, r, seed, "top_down", sites)
    return [np_row, td_row]


def run_one(
    arm: str, n: int, r: int, seed: int, strategy: str, sites: np.ndarray | None = None
) -> tuple[dict, np.ndarray]:
    """Run one model month by month, collecting the trace quantities; and its trial sites.

    ``sites``: the schools whose gain is set against the others' (default: this run's
    own field-trial sites).
    """
    p = load_scenario(strategy, overrides_for(arm, n, strategy))
    m = NextPracticeModel(p, rng=seed)
    s, pr = m.schools, m.practices
    perf_start = s.perf[: s.n].copy()
    ever_site = np.zeros(s.n, bool)
    trials = []
    mandated: set[int] = set()
    changes, took_up, before = 0, 0, None
    eff_sum, eff_months = 0.0, 0
    trial_prec: dict[int, float] = {}
    swaps = []  # (kept effect in - out, out monitored, out withdrawn, estimate in - out)
    for _ in range(p.n_steps):
        m.step()
        ever_site |= s.trial[: s.n] != EMPTY
        trials += m.events.get("trial", [])
        trial_prec.update({e["practice"]: 1.0 / e["se"] ** 2 for e in m.events.get("trial", [])})
        took_up += sum(e["took_up"] for e in m.events.get("mandate", []))
        now = tuple(m.mandates)
        mandated.update(now)
        changes += before is not None and set(now) != set(before)
        if before and set(now) != set(before):
            # Each practice that entered the mandate against each that left it: the true
            # effect each keeps at scale, whether the one that left had been monitored (its
            # evidence more than its trial's) or withdrawn, and their published estimates
            # when the centre chose (the centre alone publishes evidence, first in a step).
            ev_mean, ev_prec = pr.ev_mean, pr.ev_prec
            for q_in in set(now) - set(before):
                for q_out in set(before) - set(now):
                    swaps.append(
                        (
                            kept_effect(m, q_in) - kept_effect(m, q_out),
                            ev_prec[q_out] > trial_prec.get(q_out, 0.0) * 1.0001,
                            pr.stage[q_out] == ABANDONED,
                            ev_mean[q_in] - ev_mean[q_out],
                        )
                    )
        before = now
        if now:
            # The true effect the mandated practices keep at a school that neither
            # invented nor trialled them (fade applied to practices born in the run).
            eff_sum += float(np.mean([kept_effect(m, q) for q in now]))
            eff_months += 1
    proven = [t for t in trials if t["proven"]]
    proven_ids = np.array(sorted({t["practice"] for t in proven}), np.int64)
    slot_p, channel = s.slot_p[: s.n], s.slot_channel[: s.n]
    holds = np.isin(slot_p, proven_ids) if len(proven_ids) else np.zeros(slot_p.shape, bool)
    full = holds & (channel == CREATED)
    n_hold = int(holds.sum())
    effect = m.slot_effect()  # true effect where run, at full depth, fade applied
    base = np.where(holds, pr.effect[np.maximum(slot_p, 0)], 0.0)
    years = p.n_steps * p.dur_step / 12.0
    led = m.ledger
    out = {
        "arm": arm,
        "n_schools": n,
        "replication": r,
        "seed": seed,
        "strategy": strategy,
        "perf_final": float(s.perf[: s.n].mean()),
        "share_ever_site": float(ever_site.mean()),
        "share_sites_now": float((s.trial[: s.n] != EMPTY).mean()),
        "share_running_proven": float(holds.any(axis=1).mean()),
        # Mean share of a trial-proven practice's effect kept where it is run (1: no fade).
        "fade_mean_proven": float(effect[holds].sum() / base[holds].sum())
        if n_hold and base[holds].sum() != 0
        else float("nan"),
        "share_full_effect_proven": float(full.sum() / n_hold) if n_hold else float("nan"),
        "n_trials_done": len(trials),
        "n_proven": len(proven),
        "n_false_pos": sum(t["true_gain"] < p.threshold_proven for t in proven),
        "mean_true_gain_proven": float(np.mean([t["true_gain"] for t in proven]))
        if proven
        else float("nan"),
        "mean_est_proven": float(np.mean([t["estimate"] for t in proven]))
        if proven
        else float("nan"),
        # Mean over schools of the true effect (fade applied) of the trial-proven practices
        # they run, at full depth (logit): what acceleration delivers, before depth.
        "gain_proven_mean": float(np.where(holds, effect, 0.0).sum(axis=1).mean()),
        "spend_centre_school_year": led.spent_centre * 1000.0 / years / s.n,
        "shortfall_centre": led.short_centre,
        "n_mandated_distinct": len(mandated),
        "n_mandate_changes": changes,
        "mandated_per_school": took_up / s.n,
        "effect_mandated_scale": eff_sum / eff_months if eff_months else float("nan"),
        "n_swaps": len(swaps),
        **swap_summary(swaps),
    }
    group = ever_site if sites is None else sites
    gain = s.perf[: s.n] - perf_start
    out["gain_sites_minus_others"] = (
        float(gain[group].mean() - gain[~group].mean())
        if group.any() and not group.all()
        else float("nan")
    )
    return out, ever_site


def kept_effect(m: NextPracticeModel, q: int) -> float:
    """The true effect practice ``q`` keeps at a school that neither invented nor trialled it."""
    pr = m.practices
    return float(pr.effect[q]) * (m.p.rel_effect_spread if pr.born[q] >= 0 else 1.0)


def swap_summary(swaps: list[tuple]) -> dict[str, float]:
    """Means over a run's mandate swaps (nan when there were none)."""
    if not swaps:
        return dict.fromkeys(
            (
                "share_swaps_worse",
                "swap_gain",
                "share_out_monitored",
                "share_out_withdrawn",
                "est_in_minus_out",
            ),
            float("nan"),
        )
    a = np.array(swaps, float)
    return {
        "share_swaps_worse": float((a[:, 0] < 0).mean()),
        "swap_gain": float(a[:, 0].mean()),
        "share_out_monitored": float(a[:, 1].mean()),
        "share_out_withdrawn": float(a[:, 2].mean()),
        "est_in_minus_out": float(a[:, 3].mean()),
    }


def jobs(arms: list[str], sizes: list[int], reps: int, root: int) -> list[tuple]:
    """Every pair of runs, biggest systems first (so the long ones start early)."""
    return [
        (arm, n, r, run_seed(root, 0, r, common=True))
        for n in sorted(sizes, reverse=True)
        for arm in arms
        for r in range(reps)
    ]


def done(path: Path) -> set[tuple]:
    """Pairs of runs already in ``runs.csv``."""
    if not path.exists():
        return set()
    with path.open() as f:
        return {
            (row["arm"], int(row["n_schools"]), int(row["replication"]))
            for row in csv.DictReader(f)
        }


#: What the table prints for next practice (means over replications), in two blocks:
#: where the trials reach, and what the mandate does with what they prove.
TRACE_REACH = (
    "share_ever_site",
    "share_full_effect_proven",
    "fade_mean_proven",
    "n_trials_done",
    "n_proven",
    "n_false_pos",
    "mean_true_gain_proven",
    "mean_est_proven",
    "spend_centre_school_year",
    "gain_sites_minus_others",
)
TRACE_MANDATE = (
    "n_mandate_changes",
    "mandated_per_school",
    "effect_mandated_scale",
    "n_swaps",
    "share_out_monitored",
    "est_in_minus_out",
    "swap_gain",
    "share_swaps_worse",
)


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` and the half-width of its Welch 95% interval."""
    from scipy import stats

    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(a.mean() - b.mean()), float(stats.t.ppf(0.975, dof) * np.sqrt(va + vb))


def table(path: Path, drift: tuple[int, int]) -> None:
    """Print next practice minus top-down (paired, 95% t interval), the trace, the drift."""
    import pandas as pd
    from scipy import stats

    df = pd.read_csv(path)
    wide = df.pivot_table(
        index=["arm", "n_schools", "replication"], columns="strategy", values="perf_final"
    ).dropna()
    d = (wide["next_practice"] - wide["top_down"]).rename("diff").reset_index()
    levels = df.groupby(["arm", "n_schools", "strategy"])["perf_final"].mean().unstack()
    rows = []
    for (arm, n), g in d.groupby(["arm", "n_schools"]):
        k = len(g)
        mean, sd = g["diff"].mean(), g["diff"].std(ddof=1)
        h = stats.t.ppf(0.975, k - 1) * sd / np.sqrt(k) if k > 1 else float("nan")
        rows.append(
            {
                "arm": arm,
                "n": n,
                "reps": k,
                "top_down": levels.loc[(arm, n), "top_down"],
                "next_practice": levels.loc[(arm, n), "next_practice"],
                "np-td": mean,
                "lo": mean - h,
                "hi": mean + h,
            }
        )
    order = {a: i for i, a in enumerate(ARMS)}

    def arm_order(c):
        return c.map(order) if c.name == "arm" else c

    perf = pd.DataFrame(rows).sort_values(["arm", "n"], key=arm_order)
    trace = (
        df[df.strategy == "next_practice"]
        .groupby(["arm", "n_schools"])[[*TRACE_REACH, *TRACE_MANDATE]]
        .mean()
        .reset_index()
        .sort_values(["arm", "n_schools"], key=arm_order)
    )
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("final mean performance; next practice - top-down, paired, 95% t interval")
        print(perf.round(3).to_string(index=False))
        for block in (TRACE_REACH, TRACE_MANDATE):
            print(f"\nnext practice, means over replications: {', '.join(block)}")
            print(trace[["arm", "n_schools", *block]].round(3).to_string(index=False))
    # Each run's difference split exactly in two: the trial sites' part, their share of
    # schools s times what being a site added against top-down (``did``: sites' gain minus
    # the others', next practice's less top-down's for the same schools), and the part of
    # the schools never a site (their gain under next practice less under top-down).
    keys = ["arm", "n_schools", "replication"]
    gsm = df.pivot_table(index=keys, columns="strategy", values="gain_sites_minus_others")
    share = df[df.strategy == "next_practice"].set_index(keys)["share_ever_site"]
    parts = d.set_index(keys).join((gsm["next_practice"] - gsm["top_down"]).rename("did"))
    parts = parts.join(share).reset_index()
    parts["sites_part"] = parts["share_ever_site"] * parts["did"]
    parts["others_part"] = parts["diff"] - parts["sites_part"]
    with pd.option_context("display.width", 250):
        print("\nnp-td split: trial sites' part (share x did) and never-sites' part, means")
        split = parts.groupby(["arm", "n_schools"])[["did", "sites_part", "others_part"]].mean()
        print(split.reset_index().sort_values(["arm", "n_schools"], key=arm_order)
              .round(4).to_string(index=False))  # fmt: skip
    # The drift: the paired difference at one size minus at another, per arm (different
    # systems at the two sizes: a Welch interval), and the same for each part.
    big, small = drift
    print(f"\ndrift: np-td at {big} schools minus at {small}, Welch 95% interval")
    print(f"  {'arm':18s} {'np-td':24s} {'sites part':24s} never-sites part")
    for arm in ARMS:
        g = parts[parts.arm == arm].dropna(subset=["diff"])
        cells = []
        for col in ("diff", "sites_part", "others_part"):
            a = g[g.n_schools == big][col].dropna().to_numpy()
            b = g[g.n_schools == small][col].dropna().to_numpy()
            if len(a) > 1 and len(b) > 1:
                x, h = welch(a, b)
                cells.append(f"{x:+.3f} [{x - h:+.3f}, {x + h:+.3f}]")
        if cells:
            print(f"  {arm:18s} " + " ".join(f"{c:24s}" for c in cells))


def main(argv: list[str] | None = None) -> None:
    """Run the trace (or print its table) from the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="output folder (runs.csv; resumes)")
    ap.add_argument("--sizes", default="200,2000", help="comma-separated numbers of schools")
    ap.add_argument("--arms", default=",".join(ARMS), help="comma-separated arms (ARMS)")
    ap.add_argument("-r", "--replications", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1, help="root seed (as compare's --seed)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--table", action="store_true", help="print the table of what is there")
    ap.add_argument("--drift", default="2000,200", help="with --table: sizes BIG,SMALL")
    a = ap.parse_args(argv)
    path = a.out / "runs.csv"
    if a.table:
        big, small = (int(x) for x in a.drift.split(","))
        table(path, (big, small))
        return
    arms = a.arms.split(",")
    unknown = [x for x in arms if x not in ARMS]
    if unknown:
        ap.error(f"unknown arm(s) {unknown}; the arms are {list(ARMS)}")
    a.out.mkdir(parents=True, exist_ok=True)
    have = done(path)
    todo = [
        j
        for j in jobs(arms, [int(x) for x in a.sizes.split(",")], a.replications, a.seed)
        if (j[0], j[1], j[2]) not in have
    ]
    new = not path.exists()
    with path.open("a", newline="") as f, ProcessPoolExecutor(a.workers) as pool:
        w = csv.DictWriter(f, FIELDS)
        if new:
            w.writeheader()
        for i, rows in enumerate(pool.map(run_pair, todo), 1):
            w.writerows(rows)
            f.flush()
            npr, td = rows
            print(
                f"{i}/{len(todo)} {npr['arm']} n={npr['n_schools']} r={npr['replication']} "
                f"next practice {npr['perf_final']:.3f} top-down {td['perf_final']:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
