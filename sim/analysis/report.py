"""The analyst's briefing: one self-contained HTML page from saved results.

``nextpractice report DIR [DIR ...] --out briefing.html`` reads the folders that
``compare``, a robustness ``sweep`` (with its ``analyze``) and ``calibrate`` wrote, in
any combination, and writes one page a ministry can read offline: the question; the
scenarios and how they differ, in words; the headline table in the reader's units
(percentage of pupils at the expected standard, points of difference from the
baseline with their 95% intervals, GBP million a year and GBP per school a year by
payer); the figures, embedded as data URIs; robustness (best-share, regret, where each
strategy fails); the calibration's fit and forecast; and provenance (versions, seeds,
scenario files, parameter changes from the defaults).

It quotes the saved tables (``summary.csv``, ``differences.csv``, ``robustness.csv``,
``forecast.csv``...) and never runs the model. A robustness sweep not yet analysed is
analysed first, from its saved results (:func:`sim.analysis.analyze.analyze`), and a
comparison run without ``--baseline`` has its paired differences taken from its saved
``outcomes.csv``. Each number of the headline table carries its saved value in a
``data-value`` attribute, so a test (and a reader) can hold the page against the files.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.core.errors import UserError
from sim.core.looks import Look, looks_or_default

#: Payers, in the order the headline table shows them (``public`` is centre + authorities).
PAYERS = ("centre", "authorities", "schools")
#: Outcome the headline compares: mean performance at the end of the run.
HEADLINE = "final_perf_mean"


@dataclass
class Sources:
    """The result folders a briefing reads, by kind (any may be missing)."""

    compare: Path | None = None
    sweep: Path | None = None
    robustness: Path | None = None
    calibration: Path | None = None
    analysed: list[Path] = field(default_factory=list)


@dataclass
class Briefing:
    """What :func:`write_report` wrote: the page, and its headline table as a frame."""

    path: Path
    headline: pd.DataFrame
    sections: list[str]
    analysed: list[Path]


# --------------------------------------------------------------------------------------
# Finding the folders
# --------------------------------------------------------------------------------------


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path}: cannot be read ({type(exc).__name__}); run the command that wrote "
            "this folder again"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: not the file nextpractice writes; run its command again")
    return data


def find_sources(dirs: Iterable[str | Path]) -> Sources:
    """Tell each folder's kind from the files in it.

    Raises:
        UserError: A folder that is none of the three kinds, or two of one kind.
    """
    src = Sources()

    def put(kind: str, path: Path) -> None:
        if getattr(src, kind) is not None:
            raise UserError(
                f"{path}: a second {kind} folder (the first is {getattr(src, kind)}); a "
                "briefing reads one of each: make one briefing per comparison"
            )
        setattr(src, kind, path)

    for d in map(Path, dirs):
        if not d.is_dir():
            raise UserError(
                f"{d}: no such folder; give folders `compare`, `sweep` or `calibrate` wrote"
            )
        if (d / "compare.json").is_file() and (d / "summary.csv").is_file():
            put("compare", d)
        elif (d / "posterior_summary.csv").is_file() and (d / "summary.json").is_file():
            put("calibration", d)
        elif (d / "manifest.json").is_file():
            method = _json(d / "manifest.json").get("method")
            if method != "robustness":
                raise UserError(
                    f"{d}: a {method} sweep; a briefing reads a robustness sweep (design "
                    "method: robustness), a comparison or a calibration"
                )
            put("sweep", d)
        elif (d / "robustness.csv").is_file() and (d.parent / "manifest.json").is_file():
            put("sweep", d.parent)
            src.robustness = d
        else:
            raise UserError(
                f"{d}: not the output of `compare`, a robustness `sweep` or `calibrate` (no "
                "compare.json, manifest.json or posterior_summary.csv here); give one of those "
                "folders"
            )
    if src.sweep is not None and src.robustness is None:
        analysis = src.sweep / "analysis"
        if not (analysis / "robustness.csv").is_file():
            from sim.analysis.analyze import analyze

            analyze(src.sweep)  # reads the saved results only
            src.analysed.append(analysis)
        src.robustness = analysis
    if src.compare is None and src.sweep is None and src.calibration is None:
        raise UserError("report: give at least one folder (compare, robustness sweep or calibrate)")
    return src


# --------------------------------------------------------------------------------------
# Numbers as the reader reads them
# --------------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def pct(x: float) -> str:
    """A share as a percentage with one decimal (0.7654 -> 76.5)."""
    return f"{100 * x:.1f}" if _finite(x) else "n/a"


def points(x: float) -> str:
    """A difference of shares in percentage points, signed (0.115 -> +11.5)."""
    return f"{100 * x:+.1f}" if _finite(x) else "n/a"


def millions(x: float) -> str:
    """GBP million with two decimals."""
    return f"{x:.2f}" if _finite(x) else "n/a"


def pounds(x: float) -> str:
    """Whole pounds with thousands separated."""
    return f"{x:,.0f}" if _finite(x) else "n/a"


def _cell(text: str, key: str, scenario: str, value: Any, extra: str = "") -> str:
    v = repr(float(value)) if _finite(value) else "nan"
    return (
        f'<td class="num" data-key="{escape(key)}" data-scenario="{escape(scenario)}" '
        f'data-value="{v}"{extra}>{escape(text)}</td>'
    )


def _img(path: Path, alt: str) -> str:
    """A PNG or SVG file as an embedded image (a data URI): the page needs no other file."""
    kind = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:{kind};base64,{data}" alt="{escape(alt)}">'
        f"<figcaption>{escape(alt)} <span class=src>({escape(path.name)})</span>"
        "</figcaption></figure>"
    )


def _swatch(look: Look) -> str:
    return f'<span class="swatch" style="background:{escape(look.colour)}"></span>'


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """An HTML table; cells already HTML (``<td>``) are kept, other text is escaped."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{escape(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return (
        f'<div class="wrap"><table class="{cls}"><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


# --------------------------------------------------------------------------------------
# Parameters in words
# --------------------------------------------------------------------------------------


def _flat(params: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in params.items() if k != "declared"}
    out.update(params.get("declared") or {})
    return out


def _info(name: str) -> dict[str, Any]:
    from sim.model.params import field_info

    try:
        return field_info(name)
    except KeyError:  # a plug-in's parameter, its plug-in not imported here
        return {"meaning": "", "unit": "", "default": None}


def _defaults() -> dict[str, Any]:
    from sim.model.params import Params

    return _flat(Params().model_dump(mode="json"))


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x}" for k, x in v.items()) or "none"
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v)) or "none"
    return str(v)


def differences(params: dict[str, dict[str, Any]]) -> list[str]:
    """The parameters whose values differ between the scenarios, in declaration order."""
    flat = {k: _flat(p) for k, p in params.items()}
    names = list(dict.fromkeys(n for p in flat.values() for n in p))
    return [
        n for n in names if len({json.dumps(p.get(n), sort_keys=True) for p in flat.values()}) > 1
    ]


def changes_from_defaults(params: dict[str, Any]) -> dict[str, Any]:
    """The values of ``params`` that are not the model's defaults."""
    base = _defaults()
    return {k: v for k, v in _flat(params).items() if k in base and base[k] != v}


def _budget_words(p: dict[str, Any]) -> str:
    n = p.get("n_schools") or 0
    centre = p.get("budget_centre", float("nan")) * n / 1000.0
    la = p.get("budget_authority", float("nan")) * n / 1000.0
    return (
        f"budgets: centre GBP {millions(centre)}m a year ({p.get('budget_centre'):g}k per "
        f"school), authorities GBP {millions(la)}m a year ({p.get('budget_authority'):g}k per "
        "school)"
    )


# --------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """A compare folder, read: its tables, scenarios and looks."""

    path: Path
    meta: dict[str, Any]
    summary: pd.DataFrame
    diffs: pd.DataFrame
    baseline: str
    keys: list[str]
    looks: dict[str, Look]
    params: dict[str, dict[str, Any]]
    years: float
    diffs_saved: bool


def read_comparison(path: Path) -> Comparison:
    """Read a compare folder's saved tables (paired differences from outcomes.csv if needed)."""
    from sim.experiments.comparison import paired_differences

    meta = _json(path / "compare.json")
    summary = pd.read_csv(path / "summary.csv")
    keys = [str(k) for k in dict.fromkeys(summary["scenario"])]
    baseline = meta.get("baseline") or keys[0]
    saved = (path / "differences.csv").is_file() and meta.get("baseline") is not None
    if saved:
        diffs = pd.read_csv(path / "differences.csv")
    else:
        outcomes = pd.read_csv(path / "outcomes.csv")
        diffs = paired_differences(outcomes, baseline)
    params = {k: meta.get("scenarios", {}).get(k, {}) for k in keys}
    steps = None
    if (path / "manifest.json").is_file():
        steps = _json(path / "manifest.json").get("steps")
    first = params[keys[0]]
    n_steps = steps or first.get("n_steps") or 0
    years = n_steps * float(first.get("dur_step", 1.0)) / 12.0
    return Comparison(
        path=path,
        meta=meta,
        summary=summary,
        diffs=diffs,
        baseline=str(baseline),
        keys=keys,
        looks=looks_or_default(keys, meta.get("looks")),
        params=params,
        years=years,
        diffs_saved=saved,
    )


def _stat(summary: pd.DataFrame, key: str, outcome: str) -> pd.Series | None:
    rows = summary[(summary["scenario"] == key) & (summary["outcome"] == outcome)]
    return rows.iloc[0] if len(rows) else None


def headline_table(c: Comparison) -> tuple[pd.DataFrame, list[list[str]], list[str]]:
    """The headline: per scenario, performance, points from the baseline, money by payer.

    Returns:
        ``(frame, html rows, html header)``: the frame (printed by ``report``; numbers as
        the page shows them) and the same as HTML cells carrying the saved values.
    """
    yrs = f"{c.years:g} years" if c.years else "the run"
    base = c.looks[c.baseline].label
    head = [
        "scenario",
        f"% of pupils at the expected standard after {yrs} [95% interval]",
        f"points of difference from {base} [95% interval, paired]",
        *[f"GBP m a year: {p}" for p in PAYERS],
        *[f"GBP per school a year: {p}" for p in PAYERS],
    ]
    rows, html = [], []
    for key in c.keys:
        look = c.looks[key]
        perf = _stat(c.summary, key, HEADLINE)
        cells = [look.label]
        tds = [f'<td class="who">{_swatch(look)}{escape(look.label)}</td>']
        if perf is not None:
            text = f"{pct(perf['mean'])} [{pct(perf['ci_lo'])}, {pct(perf['ci_hi'])}]"
            tds.append(_cell(text, "perf", key, perf["mean"]))
        else:
            text = "n/a"
            tds.append(_cell(text, "perf", key, float("nan")))
        cells.append(text)
        if key == c.baseline:
            text = "baseline"
            tds.append(_cell(text, "diff", key, 0.0))
        else:
            d = c.diffs[(c.diffs["scenario"] == key) & (c.diffs["outcome"] == HEADLINE)]
            if len(d):
                r = d.iloc[0]
                text = f"{points(r['mean_diff'])} [{points(r['ci_lo'])}, {points(r['ci_hi'])}]"
                tds.append(_cell(text, "diff", key, r["mean_diff"]))
            else:
                text = "n/a"
                tds.append(_cell(text, "diff", key, float("nan")))
        cells.append(text)
        for prefix, fmt in (("spend_year_", millions), ("spend_school_year_", pounds)):
            for payer in PAYERS:
                s = _stat(c.summary, key, prefix + payer)
                value = s["mean"] if s is not None else float("nan")
                text = fmt(value)
                title = (
                    f' title="95% interval {fmt(s["ci_lo"])} to {fmt(s["ci_hi"])}"'
                    if s is not None
                    else ""
                )
                tds.append(_cell(text, prefix + payer, key, value, title))
                cells.append(text)
        rows.append(cells)
        html.append(tds)
    return pd.DataFrame(rows, columns=head), html, head


def _compare_section(c: Comparison) -> str:
    n_rep = c.meta.get("replications", "?")
    first = c.params[c.keys[0]]
    parts = ["<section id=scenarios><h2>The scenarios</h2>"]
    items = []
    for key in c.keys:
        look, p = c.looks[key], c.params[key]
        text = str(c.meta.get("descriptions", {}).get(key, "")).strip()
        strategy = look.strategy or p.get("strategy", "")
        items.append(
            f"<li>{_swatch(look)}<b>{escape(look.label)}</b>"
            + (f" (strategy: {escape(_strategy_label(strategy))})" if strategy else "")
            + (f": {escape(text)}" if text else "")
            + f" <span class=small>{escape(_budget_words(p))}.</span></li>"
        )
    parts.append(f"<ul class=scenarios>{''.join(items)}</ul>")
    diff = differences(c.params)
    if diff:
        rows = []
        for name in diff:
            info = _info(name)
            unit = info.get("unit") or ""
            meaning = (info.get("meaning") or "").split(". ")[0].rstrip(".")
            shown = _strategy_label if name == "strategy" else _value
            rows.append(
                [name, meaning, "" if unit in ("1", "", "name") else unit]
                + [shown(_flat(c.params[k]).get(name)) for k in c.keys]
            )
        parts.append(
            "<p>They differ in these parameters (every other value is the same in all of "
            "them):</p>"
            + _table(
                ["parameter", "what it is", "unit", *[c.looks[k].label for k in c.keys]],
                rows,
                "diff",
            )
        )
    parts.append("</section>")
    frame, html_rows, head = headline_table(c)
    interval = (
        "paired replication by replication (same seeds), from differences.csv"
        if c.diffs_saved
        else "paired replication by replication (same seeds), from the runs in outcomes.csv"
    )
    parts.append(
        "<section id=headline><h2>The headline</h2>"
        f"<p>Each scenario ran {escape(str(n_rep))} times on the same "
        f"{first.get('n_schools', '?'):,} schools "
        f"(replication r of every scenario has the same seed). Performance is the mean over "
        f"runs with the 95% interval of that mean (summary.csv); differences are {interval}. "
        "Money is what each payer spent, a year on average over the run, for the whole "
        "system and per school; hover a money cell for its 95% interval.</p>"
        + _table(head, [[*r] for r in html_rows], "headline")
        + _headline_words(c)
        + "</section>"
    )
    fig = c.path / "compare.png"
    if fig.is_file():
        parts.append(
            "<section id=figures><h2>Over time</h2>"
            + _img(
                fig,
                "Mean share of pupils at the expected standard, each scenario's runs "
                "(90% band), and the spread between schools",
            )
            + "</section>"
        )
    return "".join(parts)


def _strategy_label(name: str) -> str:
    import sim.model.builtin  # noqa: F401  (the shipped strategies and their labels)
    from sim.core.looks import strategy_look

    return strategy_look(name).label


def _headline_words(c: Comparison) -> str:
    """The headline in a sentence per scenario against the baseline."""
    out = []
    base = c.looks[c.baseline].label
    for key in c.keys:
        if key == c.baseline:
            continue
        d = c.diffs[(c.diffs["scenario"] == key) & (c.diffs["outcome"] == HEADLINE)]
        if not len(d) or not _finite(d.iloc[0]["mean_diff"]):
            continue
        r = d.iloc[0]
        lo, hi = float(r["ci_lo"]), float(r["ci_hi"])
        sure = (
            "higher"
            if lo > 0
            else "lower"
            if hi < 0
            else "not clearly different (the interval includes zero)"
        )
        money = ""
        a, b = (
            _stat(c.summary, key, "spend_year_public"),
            _stat(c.summary, c.baseline, "spend_year_public"),
        )
        if a is not None and b is not None and _finite(a["mean"]) and _finite(b["mean"]):
            extra = float(a["mean"]) - float(b["mean"])
            money = (
                f", for GBP {millions(abs(extra))}m a year {'more' if extra >= 0 else 'less'} "
                "public money"
            )
        out.append(
            f"<li><b>{escape(c.looks[key].label)}</b> ends {points(r['mean_diff'])} points "
            f"against {escape(base)} [{points(lo)}, {points(hi)}]: {sure}{money}.</li>"
        )
    return f"<ul>{''.join(out)}</ul>" if out else ""


# --------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------


def _robustness_section(sweep: Path, analysis: Path) -> str:
    m = _json(sweep / "manifest.json")
    policies = [str(p) for p in m.get("policies", [])]
    looks = looks_or_default(policies, m.get("looks"))
    robust = pd.read_csv(analysis / "robustness.csv")
    parts = [
        "<section id=robustness><h2>Robustness: in which plausible worlds does each win?</h2>",
        f"<p>Every policy ran in the same {m.get('n_worlds', '?')} worlds, each world a "
        f"sample of {len(m.get('world_factors', []))} uncertainties over their declared "
        f"ranges, {_count(m.get('replications'), 'seed')} each, the same seeds for every "
        "policy in a world. <b>Best-share</b>: the share of worlds in which a policy does best. "
        "<b>Regret</b>: in each world, how far a policy falls short of that world's best "
        "(median and largest over the worlds); the policy with the smallest largest regret "
        "is the minimax-regret choice.</p>",
    ]
    for measure, t in robust.groupby("measure", sort=False):
        better = t["better"].iloc[0]
        rows = []
        for r in t.itertuples():
            look = looks[str(r.policy)]
            rows.append(
                [
                    f'<td class="who">{_swatch(look)}{escape(look.label)}</td>',
                    _cell(f"{r.mean:.4g}", f"mean:{measure}", str(r.policy), r.mean),
                    _cell(
                        pct(r.best_share) + "%",
                        f"best_share:{measure}",
                        str(r.policy),
                        r.best_share,
                    ),
                    f"{r.regret_median:.4g}",
                    f"{r.regret_max:.4g}",
                    "yes" if bool(r.minimax_regret) else "",
                ]
            )
        parts.append(
            f"<h3>{escape(measure)} ({'more' if better == 'max' else 'less'} is better)</h3>"
            + _table(
                [
                    "policy",
                    "mean over worlds",
                    "best in",
                    "median regret",
                    "largest regret",
                    "minimax regret",
                ],
                rows,
                "robust",
            )
        )
    sat = analysis / "satisficing.csv"
    if sat.is_file():
        s = pd.read_csv(sat)
        if len(s):
            parts.append(
                f"<p>Worlds meeting every target ({escape(str(s['targets'].iloc[0]))}): "
                + "; ".join(
                    f"{escape(looks[str(r.policy)].label)} {pct(r.share_satisficing)}%"
                    for r in s.itertuples()
                )
                + ".</p>"
            )
    fails = analysis / "failures.csv"
    if fails.is_file():
        parts.append(_failure_words(pd.read_csv(fails), looks))
    summary = _json(analysis / "summary.json") if (analysis / "summary.json").is_file() else {}
    found = summary.get("discover") or {}
    if found.get("boxes"):
        box = found["boxes"][0]
        limits = "; ".join(
            f"{escape(k)} {lo:.4g} to {hi:.4g}" for k, (lo, hi) in box["limits"].items()
        )
        parts.append(
            f"<p>Scenario discovery: where <code>{escape(found['expression'])}</code> holds "
            f"({found['n_cases']} of {found['n_worlds']} worlds): {limits} (coverage "
            f"{pct(box['coverage'])}%, density {pct(box['density'])}%"
            + ("" if box.get("significant") else ", not significant")
            + ").</p>"
        )
    for name, alt in (
        ("best_share.png", "Share of worlds in which each policy is best, per measure"),
        *[
            (f"regret_{measure}.png", f"Regret in {measure} over the worlds")
            for measure in dict.fromkeys(robust["measure"])
        ],
        ("prim_tradeoff.png", "Scenario discovery: PRIM's peeling trajectory"),
    ):
        if (analysis / name).is_file():
            parts.append(_img(analysis / name, alt))
    parts.append("</section>")
    return "".join(parts)


def _count(n: Any, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _failure_words(f: pd.DataFrame, looks: dict[str, Look]) -> str:
    items = []
    for (_, policy), g in f.groupby(["measure", "policy"], sort=False):
        r = g.iloc[0]
        label = escape(looks[str(policy)].label) if str(policy) in looks else escape(str(policy))
        n, k = int(r["n_worlds"]), int(r["n_fails"])
        text = f"<b>{label}</b> is not the best on {escape(str(r['measure']))} in {k} of {n} worlds"
        if k == 0:
            text += ": it never fails"
        elif k == n:
            text += ": it fails everywhere"
        elif isinstance(r.get("uncertainty"), str):
            where = "; ".join(
                f"{escape(str(b.uncertainty))} {b.lower:.4g} to {b.upper:.4g} (of "
                f"{b.range_low:.4g} to {b.range_high:.4g})"
                for b in g.itertuples()
            )
            text += (
                f"; those worlds lie mostly where {where}: {pct(r['coverage'])}% of them are "
                f"there, and {pct(r['density'])}% of the worlds there are failures"
                + ("" if bool(r["significant"]) else " (not significant)")
            )
        items.append(f"<li>{text}.</li>")
    return (
        "<p>Where each policy fails (PRIM on the worlds where it is not the best; "
        "failures.csv):</p><ul>" + "".join(items) + "</ul>"
    )


# --------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------


def _calibration_section(path: Path) -> str:
    s = _json(path / "summary.json")
    post = pd.read_csv(path / "posterior_summary.csv")
    gens = pd.read_csv(path / "generations.csv") if (path / "generations.csv").is_file() else None
    fitted = s.get("fitted_years") or []
    held = s.get("held_back_years") or []
    parts = [
        "<section id=calibration><h2>How well the model fits</h2>",
        f"<p>{escape(str(s.get('calibration', {}).get('description', '')))}</p>"
        f"<p>Fitted by approximate Bayesian computation (ABC-SMC) to "
        f"{escape(Path(str(s.get('series', ''))).name)}, "
        f"{min(fitted) if fitted else '?'}-{max(fitted) if fitted else '?'}"
        + (f"; {min(held)}-{max(held)} held back and forecast" if held else "")
        + ".",
    ]
    if gens is not None and len(gens):
        last = gens.iloc[-1]
        parts.append(
            f" After {len(gens)} generations the tolerance is {last['epsilon']:.3g} (distance "
            f"in the series' unit), accepting {pct(last['acceptance_rate'])}% of "
            f"{int(gens['simulations'].sum()):,} simulations."
        )
    parts.append("</p>")
    rows = [
        [
            str(r.parameter),
            (_info(str(r.parameter)).get("meaning") or "").split(". ")[0],
            f"{r.median:.4g}",
            f"{r.p05:.4g} to {r.p95:.4g}",
            f"{r.prior_low:.4g} to {r.prior_high:.4g}",
        ]
        for r in post.itertuples()
    ]
    parts.append(
        _table(["parameter", "what it is", "posterior median", "90% interval", "prior range"], rows)
    )
    fc = path / "forecast.csv"
    if fc.is_file():
        f = pd.read_csv(fc)
        many = "series" in f and f["series"].nunique() > 1
        years = f[f["year"].astype(str).str.isdigit()]
        rows = [
            [
                *([str(r.series)] if many else []),
                str(r.year),
                f"{float(r.observed):.1f}",
                f"{r.model_median:.1f} [{r.model_p05:.1f}, {r.model_p95:.1f}]",
                f"{float(r.last_value):.1f}",
                f"{float(r.logistic):.1f}",
            ]
            for r in years.itertuples()
        ]
        parts.append(
            "<h3>Forecast of the years held back</h3>"
            + _table(
                [
                    *(["series"] if many else []),
                    "year",
                    "observed",
                    "model median [90% band]",
                    "naive: last value",
                    "naive: logistic",
                ],
                rows,
            )
        )
        for r in f[f["year"].astype(str) == "rmse"].itertuples():
            model, last, logi = (float(r.model_median), float(r.last_value), float(r.logistic))
            beaten = [
                n
                for n, v in (("last value", last), ("logistic fit", logi))
                if _finite(v) and v < model
            ]
            verdict = (
                "beats both naive forecasts"
                if not beaten
                else f"does not beat the naive {' and '.join(beaten)}"
            )
            which = f" of {escape(str(r.series))}" if many else ""
            parts.append(
                f"<p>Root mean square error over the held-back years{which}: model "
                f"{model:.2f}, last value carried forward {last:.2f}, logistic fit "
                f"{logi:.2f}. The model's forecast {verdict}.</p>"
            )
    for name, alt in (
        ("predictive.png", "Posterior predictive band against the observed series"),
        ("posterior.png", "Posterior of each fitted parameter against its prior"),
    ):
        if (path / name).is_file():
            parts.append(_img(path / name, alt))
    parts.append("</section>")
    return "".join(parts)


# --------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------


def _provenance(src: Sources, c: Comparison | None) -> str:
    items = [f"<li>This page: nextpractice {escape(__version__)}.</li>"]
    if c is not None:
        seeds = c.meta.get("seeds") or []
        shown = ", ".join(map(str, seeds[:10])) + (
            f" ... ({len(seeds)} in all)" if len(seeds) > 10 else ""
        )
        items.append(
            f"<li>Comparison <code>{escape(str(c.path))}</code>: nextpractice "
            f"{escape(str(c.meta.get('version', '?')))}, root seed "
            f"{escape(str(c.meta.get('root_seed', '?')))}, "
            f"{escape(str(c.meta.get('replications', '?')))} replications; run seeds "
            f"{escape(shown)}.</li>"
        )
        files = c.meta.get("scenario_files") or {}
        for key in c.keys:
            changed = changes_from_defaults(c.params[key])
            text = "; ".join(f"{k} {_value(v)}" for k, v in changed.items()) or "none"
            file = files.get(key, key)
            items.append(
                f"<li>{_swatch(c.looks[key])}{escape(c.looks[key].label)}: scenario "
                f"<code>{escape(str(file))}</code>; changes from the defaults: {escape(text)}.</li>"
            )
    if src.sweep is not None:
        m = _json(src.sweep / "manifest.json")
        v = (m.get("versions") or {}).get("nextpractice", "?")
        items.append(
            f"<li>Robustness sweep <code>{escape(str(src.sweep))}</code>: experiment "
            f"<code>{escape(str(m.get('experiment_file', '?')))}</code>, nextpractice "
            f"{escape(str(v))}, root seed {escape(str(m.get('root_seed', '?')))}, "
            f"{escape(str(m.get('n_runs', '?')))} runs.</li>"
        )
    if src.calibration is not None:
        s = _json(src.calibration / "summary.json")
        cal = s.get("calibration") or {}
        items.append(
            f"<li>Calibration <code>{escape(str(src.calibration))}</code>: file "
            f"<code>{escape(str(s.get('calibration_file', '?')))}</code>, nextpractice "
            f"{escape(str(s.get('version', '?')))}, pyabc {escape(str(s.get('pyabc', '?')))}, "
            f"seed {escape(str(cal.get('seed', '?')))}.</li>"
        )
    for d in src.analysed:
        items.append(
            f"<li>Analysed for this page from the saved results: <code>{escape(str(d))}</code>"
            ".</li>"
        )
    return (
        "<section id=provenance><h2>Where these numbers come from</h2>"
        f"<ul>{''.join(items)}</ul></section>"
    )


# --------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------

_CSS = """
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
margin:0;color:#1a1a1a;background:#fff}
main{max-width:1140px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:28px;margin:0 0 6px}h2{font-size:22px;margin:32px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:17px;margin:18px 0 6px}.lead{font-size:19px;color:#333}
.wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:8px 0 12px;font-size:14px}
th,td{border:1px solid #d6d6d6;padding:5px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3;font-weight:600}td.num{text-align:right;white-space:nowrap}
td.who{white-space:nowrap;font-weight:600}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;
vertical-align:-1px}
figure{margin:14px 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#555}.src,.small{color:#666;font-size:13px}
ul.scenarios li{margin-bottom:6px}code{font-size:13px;background:#f6f6f6;padding:0 3px}
nav a{margin-right:14px}
"""


def _question(c: Comparison | None, sweep: Path | None) -> str:
    if c is not None:
        labels = [c.looks[k].label for k in c.keys]
        names = ", ".join(labels[:-1]) + (" or " if len(labels) > 1 else "") + labels[-1]
        p = c.params[c.keys[0]]
        start = p.get("start_year")
        return (
            f"Which should we fund: {names}? For a system of {p.get('n_schools', 0):,} "
            f"schools over {c.years:g} years"
            + (f" from {start:g}" if isinstance(start, int | float) else "")
            + ": how many pupils reach the expected standard under each, and what does each "
            "cost, and whom?"
        )
    if sweep is not None:
        m = _json(sweep / "manifest.json")
        return f"Which of {', '.join(m.get('policies', []))} holds up across plausible worlds?"
    return "How well does the model reproduce what happened, and what does it forecast?"


@contextmanager
def _damaged(folder: Path, command: str) -> Iterator[None]:
    """Say in one line that a saved table is missing or damaged, and what writes it again."""
    try:
        yield
    except UserError:
        raise
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as exc:
        what = exc.filename if isinstance(exc, OSError) and exc.filename else folder
        raise UserError(
            f"{what}: a saved table is missing or damaged ({type(exc).__name__}: "
            f"{str(exc)[:120]}); run `nextpractice {command}` for {folder} again"
        ) from None


def write_report(
    dirs: Iterable[str | Path], out: str | Path, question: str | None = None
) -> Briefing:
    """Write the briefing page from saved results.

    Args:
        dirs: Folders written by ``compare``, a robustness ``sweep`` (its ``analysis/``
            is read, or written from the saved results first) and ``calibrate``.
        out: The HTML file to write.
        question: The question the briefing answers (default: one made from the
            scenarios compared).

    Returns:
        The page's path, its headline table and the sections written.

    Raises:
        UserError: A folder of no known kind, or a file missing or damaged in one.
    """
    from sim.inputs.checks import writable_dir

    out = Path(out)
    writable_dir(out.parent if str(out.parent) else Path("."))
    src = find_sources(dirs)
    c = None
    sections, body = [], []
    headline = pd.DataFrame()
    if src.compare is not None:
        with _damaged(src.compare, "compare"):
            c = read_comparison(src.compare)
            headline, _, _ = headline_table(c)
            body.append(_compare_section(c))
        sections += ["scenarios", "headline", "figures"]
    if src.sweep is not None and src.robustness is not None:
        with _damaged(src.robustness, "analyze"):
            body.append(_robustness_section(src.sweep, src.robustness))
        sections.append("robustness")
    if src.calibration is not None:
        with _damaged(src.calibration, "calibrate"):
            body.append(_calibration_section(src.calibration))
        sections.append("calibration")
    body.append(_provenance(src, c))
    sections.append("provenance")
    q = question or _question(c, src.sweep)
    titles = {
        "scenarios": "Scenarios",
        "headline": "Headline",
        "figures": "Over time",
        "robustness": "Robustness",
        "calibration": "Fit",
        "provenance": "Provenance",
    }
    nav = "".join(f'<a href="#{s}">{titles[s]}</a>' for s in sections)
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>Briefing: {escape(q)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>Briefing</h1><p class=lead id=question>{escape(q)}</p><nav>{nav}</nav>"
        + "".join(body)
        + "</main></body></html>\n"
    )
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return Briefing(out, headline, sections, src.analysed)
