"""The ``nextpractice`` command line.

Subcommands: ``run``, ``compare``, ``params``, ``data``, ``sweep``, ``analyze``,
``report``, ``calibrate``, ``validate``, ``bench``, ``app`` and ``init``; ``nextpractice
COMMAND --help`` gives each option's meaning and default. User errors (a bad scenario, a bad
value) are printed as one clear message with exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import types
from pathlib import Path
from typing import Any, NoReturn

from sim import __version__
from sim.core.errors import RunsFailed, UserError
from sim.inputs.checks import harden_parser, positive_int, writable_dir
from sim.inputs.folders import shown

#: Outcomes ``compare`` prints (all of them are in summary.csv), in this order.
COMPARE_TABLE = (
    "gain_first_2y",
    "gain_last_5y",
    "plateau_level",
    "final_perf_mean",
    "final_perf_sd",
    "final_spend_public",
    "spend_year_public",
    "spend_per_point",
    "final_past_plateau",
)


def _overrides(pairs: list[str] | None) -> dict:
    from sim.model.scenario import parse_assignment

    return dict(parse_assignment(s) for s in pairs or [])


#: Set by :func:`console` while the command's imports run with the cyclic garbage
#: collector off (:func:`_imports_done`).
_GC_HELD = False


def _imports_done() -> None:
    """The command's imports are done: keep what they made out of every later collection.

    Importing numba, pandas, Mesa and the package makes some 200,000 objects that live
    as long as the process; with the collector on, its full collections scan them all
    again and again (two during the imports of ``run england`` and more during the run:
    about a tenth of the command's time, measured). :func:`console` turns the collector
    off for the imports; here every object made so far goes into the permanent
    generation (:func:`gc.freeze`), never scanned, and the collector is on again for
    what the command itself makes. Nothing computed changes. Only under ``console``
    (tests call :func:`main`, with the collector as they left it).
    """
    global _GC_HELD
    if _GC_HELD:
        _GC_HELD = False
        gc.freeze()
        gc.enable()
        _drop_llvm_lock_events()


def _drop_llvm_lock_events() -> None:
    """Stop numba timing its LLVM lock for the rest of the command (a diagnostic only).

    numba registers a callback on llvmlite's lock that broadcasts a ``numba:llvm_lock``
    event each time any LLVM call takes the lock; numba's compiler listens to it only to
    time its compilations (``timers`` in a compiled overload's metadata). Loading a cached
    kernel makes some 250 such calls, so the 35 kernels England's first step loads make
    about 9,000 broadcasts: 20 to 25 ms of ``run england``, measured. The command owns its
    process, which ends when the command does (:func:`console`), so the callback is
    removed here, under ``console`` only; tests and library users, who call
    :func:`main` or the model, keep numba as it is. Nothing computed changes. Should
    llvmlite's lock change its layout, nothing is removed.
    """
    ffi = sys.modules.get("llvmlite.binding.ffi")
    try:
        callbacks = list(ffi.lib._lock._cblist)  # noqa: SLF001
    except AttributeError:
        return
    for acquire, release in callbacks:
        if getattr(acquire, "__module__", None) == "numba.core.base":
            ffi.unregister_lock_callback(acquire, release)


#: Packages a command running the model never uses, imported only to be bound as names:
#: Mesa's spaces (``import mesa`` binds them, ``import mesa.discrete_space as
#: discrete_space``, ``from mesa.experimental import continuous_space``; they bring
#: scipy.spatial and networkx) and scipy.linalg, whose ``__init__`` numba runs on its first
#: compiled call only to find the BLAS of ``scipy.linalg.cython_blas`` (it brings
#: numpy.f2py). About 0.6-1.0 s of ``run england``'s start on the development host
#: (docs/performance.md).
DEFERRED = (
    "mesa.discrete_space",
    "mesa.experimental.continuous_space",
    "mesa.space",
    "scipy.linalg",
)


class _Deferred(types.ModuleType):
    """A module whose code runs when first an attribute it lacks is asked for.

    The module object is the real one (made from its spec, with ``__spec__``, ``__path__``
    and ``__file__``): the import system binds it and finds its submodules without running
    it, and the first other name asked of it (``mesa.discrete_space.OrthogonalMooreGrid``,
    ``from mesa.space import MultiGrid``) runs its code in it, so every later reader,
    earlier bindings included, sees the module as a plain import makes it. As
    :class:`importlib.util.LazyLoader`, without its loading on the import system's own
    look at ``__spec__``.
    """

    def __getattr__(self, name: str):
        with _DEFER_LOCK:  # other threads asking wait here until the code has run
            running = self.__dict__.get("_deferred_running")
            if running:  # its own code asks for a name it has not yet set: as a plain import
                raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
            if type(self) is _Deferred:  # the first asker runs the code; later ones find it run
                self.__dict__["_deferred_running"] = True
                try:
                    self.__spec__.loader.exec_module(self)
                except BaseException:
                    sys.modules.pop(self.__name__, None)  # as a failed import leaves it
                    raise
                finally:
                    del self.__dict__["_deferred_running"]
                self.__class__ = types.ModuleType
        return types.ModuleType.__getattribute__(self, name)


_DEFER_LOCK = threading.RLock()


def _defer(names: tuple[str, ...]) -> None:
    """Put each named module in ``sys.modules`` as a :class:`_Deferred`, parents untouched.

    Found on the path of its top package (``importlib.util.find_spec`` of a submodule
    would import the parent, which is what is put off). A name already imported, or not
    found (another Mesa's layout), is left to a plain import.
    """
    import importlib.machinery
    import importlib.util

    for name in names:
        if name in sys.modules:
            continue
        top, *middle, _ = name.split(".")
        spec = importlib.util.find_spec(top)
        roots = list(spec.submodule_search_locations or []) if spec else []
        found = importlib.machinery.PathFinder.find_spec(
            name, [os.path.join(r, *middle) for r in roots]
        )
        if found is None or found.loader is None:
            continue
        module = importlib.util.module_from_spec(found)
        module.__class__ = _Deferred
        sys.modules[name] = module


def _import_mesa() -> None:
    """Import Mesa, its unused subpackages put off, without its loggers reading every frame.

    Mesa's own ``__init__`` imports all of Mesa: the spaces of :data:`DEFERRED` (and
    scipy.linalg, which numba's first compiled call would import) are put in as
    :class:`_Deferred` modules first, so their code (scipy.spatial, networkx, numpy.f2py
    with it) runs only if something asks them for a name; a command running the model
    never does. Its ``pandas`` stays (``mesa.agent`` imports it, and the run's tables are
    pandas frames).

    Mesa 3.5's ``mesa.model`` names its module logger with ``inspect.stack()`` and its
    method logger's class with ``inspect.getouterframes()``, which read the source
    lines of every calling frame and, through ``inspect.getmodule``, the real path of
    every module loaded so far: about 0.1 s of CPU at the depth and with the some 1,500
    modules of ``run england``'s imports, for two names ("mesa.model" and "Model").
    While Mesa is imported (once, first thing in a command that runs the model), these
    three functions answer from the frames alone: the same frames, function names and
    modules, without source lines (their ``code_context`` is None, and nothing Mesa
    imports reads it). They are put back at once, whatever happens.
    """
    if "mesa" in sys.modules:
        return
    import inspect

    _defer(DEFERRED)

    saved = inspect.stack, inspect.getouterframes, inspect.getmodule

    def frames(frame):
        out = []
        while frame is not None:
            code = frame.f_code
            out.append(
                inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
            )
            frame = frame.f_back
        return out

    def module_of(obj, _filename=None):
        if inspect.isframe(obj):
            found = sys.modules.get(obj.f_globals.get("__name__", ""))
            if found is not None:
                return found
        return saved[2](obj, _filename)

    inspect.stack = lambda context=1: frames(sys._getframe(1))  # noqa: SLF001
    inspect.getouterframes = lambda frame, context=1: frames(frame)
    inspect.getmodule = module_of
    try:
        import mesa  # noqa: F401
    finally:
        inspect.stack, inspect.getouterframes, inspect.getmodule = saved


def _label(name: str) -> str:
    """A scenario's label in outputs: its file's stem (``classics/bass`` -> ``bass``)."""
    return Path(name).stem


def cmd_run(args: argparse.Namespace) -> None:
    """One run: metrics.csv, summary.json and a figure; the per-practice tables on request."""
    _import_mesa()
    from sim.experiments.executor import open_pool
    from sim.experiments.runner import run_model
    from sim.model.scenario import load_scenario

    _imports_done()
    params = load_scenario(args.scenario, _overrides(args.set))
    out = writable_dir(args.out or Path("runs") / _label(args.scenario))  # before computing
    with open_pool(workers=1) as pool:  # the one executor, in this process: a run's errors raise
        (res,) = pool.imap(run_model, [(params, args.seed, args.steps, args.tables)])
    written = [out / "metrics.csv", out / "summary.json"]
    res.metrics.to_csv(written[0], index=False)
    res.summary["scenario"] = str(args.scenario)
    written[1].write_text(json.dumps(res.summary, indent=1, default=str))
    if args.tables:  # large at England's size: Parquet, and only when asked for
        written += [out / "adoption.parquet", out / "practices.parquet"]
        res.adoption.to_parquet(written[-2], index=False)
        res.practices.to_parquet(written[-1], index=False)
    written += _run_figures(
        res.metrics, out, f"{_label(args.scenario)} (seed {args.seed})", png=args.png
    )
    for path in written:
        print(f"wrote {shown(path)}")
    if "perf_mean" not in res.metrics:  # the adoption metric set: nothing else moves
        print(f"final share adopted {res.summary['final']['top_adoption']:.3f}")
        return
    o = res.summary["outcomes"]
    print(
        f"final mean performance {res.summary['final']['perf_mean']:.3f}; plateau level "
        f"{o['plateau_level']:.3f} from step {o['plateau_step']:.0f}"
    )


def _run_figures(metrics, out: Path, title: str, png: bool) -> list[Path]:
    """A run's figure: SVG (cheap, no matplotlib), and the matplotlib PNG when asked for."""
    from sim.analysis.svgplot import adoption_svg, performance_svg

    full = "perf_mean" in metrics
    name = "performance" if full else "adoption"
    paths = [(performance_svg if full else adoption_svg)(metrics, out / f"{name}.svg", title)]
    if png:
        from sim.analysis.plots import adoption_figure, performance_figure

        paths.append(
            (performance_figure if full else adoption_figure)(
                metrics, out / f"{name}.png", title=title
            )
        )
    return paths


def cmd_compare(args: argparse.Namespace) -> None:
    """Replicated comparison of scenarios: runs.parquet, summary.csv, compare.png."""
    _import_mesa()
    import pandas as pd

    from sim.analysis.plots import compare_figure
    from sim.core.looks import Look
    from sim.experiments.comparison import compare, differences_table, summary_table
    from sim.experiments.runner import load_runs
    from sim.model.scenario import load_scenario

    ov = _overrides(args.set)
    scenarios = {}
    for path in args.scenarios:
        label = _label(path)
        if label in scenarios:
            raise UserError(f"two scenarios are named {label!r}; give them different file names")
        scenarios[label] = load_scenario(path, ov)
        if scenarios[label].metrics != "full":
            raise UserError(
                f"{path}: metrics is {scenarios[label].metrics!r}, but compare "
                "plots performance; add --set metrics=full, or use "
                "`nextpractice run` for a reduced diffusion mode"
            )
    baseline = _label(args.baseline) if args.baseline is not None else None
    about = _about_scenarios(args.scenarios, scenarios)
    out = writable_dir(args.out or "runs/compare")  # before any run, not after
    precision = dict(args.precision) if args.precision else None
    most = args.max_replications
    if most is not None and precision is None:
        raise UserError("--max-replications: only with --precision; give --precision H too")
    if precision is not None and most is None:
        from sim.experiments.comparison import MIN_FIRST_BATCH

        most = 10 * max(args.replications, MIN_FIRST_BATCH)
    draws = None
    if args.posterior:  # one posterior draw per replication, the same in every scenario
        from sim.experiments.posterior import replication_overrides

        n_draws = most if precision is not None and most is not None else args.replications
        draws = replication_overrides(scenarios, n_draws, args.posterior, args.seed)
    compare(
        scenarios,
        args.replications,
        args.seed,
        out,
        args.steps,
        args.workers,
        progress=True,
        scheduler=args.scheduler,
        baseline=baseline,
        per_replication=draws,
        precision=precision,
        max_replications=most,
        allow_failures=args.allow_failures,
        about=about,
    )
    looks = {k: Look.from_dict(v) for k, v in about["looks"].items()}
    meta = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    used = int(meta["replications"])
    compare_figure(
        load_runs(out, ["scenario", "year", "perf_mean", "perf_sd"]), out / "compare.png", looks
    )
    keep = list(COMPARE_TABLE)
    with pd.option_context("display.width", 200, "display.max_columns", None):
        if precision is not None:
            print(_precision_line(meta["precision"]))
        print(
            f"mean [{_pct()} interval of the mean] over {used} replications "
            "(every outcome is in summary.csv):"
        )
        print(summary_table(pd.read_csv(out / "summary.csv"), keep).to_string())
        files = ["runs.parquet", "outcomes.csv", "summary.csv", "compare.png"]
        if baseline is not None:
            print(
                f"\npaired difference from {baseline} [{_pct()} interval], replication "
                "by replication (same seeds):"
            )
            diffs = pd.read_csv(out / "differences.csv")
            print(differences_table(diffs, keep).to_string())
            files.insert(3, "differences.csv")
        if precision is not None:
            files.append("precision.csv")
        if (out / "failed_runs.csv").is_file():  # failed runs accepted: --allow-failures
            files.append("failed_runs.csv")
    for name in files:
        print(f"wrote {shown(out / name)}")


def _about_scenarios(paths: list[str], scenarios: dict) -> dict:
    """What ``compare.json`` records for readers: each scenario's file, label, look, text."""
    from sim.core.looks import assign
    from sim.inputs.shipped import locate
    from sim.model.scenario import label_from, resolve

    files, texts, entries = {}, {}, {}
    for path, (key, params) in zip(paths, scenarios.items(), strict=True):
        values, _ = resolve(path)
        files[key] = str(locate(path, "scenarios"))
        texts[key] = str(values.get("description", ""))
        label = label_from(values.get("label"), values.get("description"), key)
        entries[key] = (label, params.strategy)
    looks = assign(entries)
    return {
        "scenario_files": files,
        "descriptions": texts,
        "looks": {k: v.to_dict() for k, v in looks.items()},
    }


def _precision_line(info: dict) -> str:
    """What a comparison by precision did: replications used, batches, target reached."""
    targets = ", ".join(f"{k} {v:g}" for k, v in info["targets"].items())
    batches = ", ".join(str(b) for b in info["batches"])
    worst = info["worst"]
    if info["reached"]:
        how = f"reached after {info['replications']} replications"
    else:
        how = (
            f"NOT reached: stopped at --max-replications {info['max_replications']}; the "
            f"widest is {worst['outcome']} for {worst['scenario']}, half-width "
            f"{worst['half_width']:.4g}"
        )
    return (
        f"precision (95% half-width of each paired difference at most {targets}): {how} "
        f"(batches ending at {batches} replications; precision.csv)"
    )


def _precision(text: str) -> tuple[str, float]:
    """An argparse type: ``H`` or ``OUTCOME=H``, a half-width above 0."""
    from sim.experiments.comparison import PRECISION_OUTCOME

    name, _, value = text.rpartition("=")
    name = name.strip() or PRECISION_OUTCOME
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} is not a half-width; give a number (e.g. 0.01) or OUTCOME=NUMBER"
        ) from None
    if not (number > 0 and number < float("inf")):
        raise argparse.ArgumentTypeError(f"the half-width must be a number above 0 (got {value})")
    return name, number


def _pct() -> str:
    from sim.experiments.comparison import CONFIDENCE

    return f"{CONFIDENCE:.0%}"


def cmd_params(args: argparse.Namespace) -> None:
    """List every parameter (value, unit, range, meaning), or the outcomes or metrics."""
    if args.outcomes or args.metrics:
        _definitions(args.outcomes, args.metrics)
        return
    if args.basis:
        _range_bases()
        return
    from sim.core.registry import owners
    from sim.model.params import parameter_table
    from sim.model.scenario import load_scenario
    from sim.rules import DEFAULTS, RULES, STEP_ORDER

    p = load_scenario(args.scenario).model_dump()
    p.update(p.pop("declared"))  # rules' and strategies' own parameters, keyed rule.param
    owner_of = owners()
    heading = None
    for info in parameter_table():
        owner = owner_of.get(info["name"])
        here = (
            "Shared (sim/model/params.py): structure, levers, run settings, the initial "
            "system, and what several mechanisms read"
            if owner is None
            else f"Declared by {owner.__module__.replace('.', '/')}.py ({owner.__name__})"
        )
        if here != heading:
            print(("\n" if heading else "") + here + ":")
            heading = here
        rng = "" if info["lo"] is None and info["hi"] is None else f"[{info['lo']}, {info['hi']}]"
        flags = info["kind"] + (", live" if info["live"] else "")
        value = p.get(info["name"], info["default"])  # a rule not in use: its default
        print(f"{info['name']:<26} = {value!r:<16} {info['unit']:<22} {rng:<16} ({flags})")
        print(f"    {info['meaning']}" + (f" [{info['ref']}]" if info.get("ref") else ""))
        if info.get("sweep"):
            lo, hi = info["sweep"]
            why = f" ({info['sweep_ref']})" if info.get("sweep_ref") else ""
            print(f"    sweep: [{lo}, {hi}]{why}")
    from sim.model.basis import basis_counts
    from sim.model.params import BUDGET_TOTALS

    print(
        "\nWhere the ranges come from (the reason for a parameter's sweep range, or for its "
        "value if no world varies it: sourced when it cites a source, judgement when it says "
        "so, neither otherwise; nextpractice params --basis lists the uncertainties'):"
    )
    kinds = {"uncertainty": "uncertainties", "lever": "levers", "structure": "structure"}
    for kind, n in basis_counts(tuple(kinds)).items():
        print(
            f"  {kinds[kind]:<14} {n['sourced']:>3} sourced, {n['judgement']:>3} judgement, "
            f"{n['neither']:>3} neither"
        )
    print("\nBudgets may be given as a total a year for the whole system instead (not both):")
    for key, spec in BUDGET_TOTALS.items():
        print(f"{key:<26} {'':<18} {spec['unit']:<22} [0, ...]          (lever)")
        print(f"    {spec['meaning']}")
    print("\nRule slots (rules: {slot: name}), in step order; * marks the default:")
    for slot in STEP_ORDER:
        names = [("*" if DEFAULTS.get(slot) == n else "") + n for n in sorted(RULES[slot])]
        print(f"  {slot:<12} {', '.join(names + ['off'])}")


def _basis_line() -> str:
    """How many uncertainties' ranges cite a source, say a judgement, or neither."""
    from sim.model.basis import KINDS, basis_counts

    counts = basis_counts(("uncertainty",))["uncertainty"]
    return (
        f"Ranges of the {sum(counts.values())} uncertainties, by their reason: "
        + ", ".join(f"{counts[k]} {k}" for k in KINDS)
        + " (the same rule as the counts of nextpractice params)"
    )


def _range_bases() -> None:
    """Print each uncertainty's sweep range reason and what it rests on."""
    from sim.model.basis import KINDS, basis_table

    table = basis_table()
    for kind in KINDS:
        rows = [r for r in table if r["basis"] == kind]
        print(f"{kind} ({len(rows)}):")
        for r in rows:
            print(f"  {r['name']:<40} {r['reason'] or '(no reason given)'}")
    print("\n" + _basis_line())


def _definitions(outcomes: bool, metrics: bool) -> None:
    """Print each outcome (one value per run) and each metric (one per step), defined."""
    if outcomes:
        from sim.experiments.runner import outcome_definitions

        print("Outcomes (one value per run; summary.json, compare and sweep results):")
        for name, text in outcome_definitions().items():
            print(f"  {name:<24} {text}")
    if metrics:
        from sim.system.metrics import DEFINITIONS, SETS

        if outcomes:
            print()
        print(
            "Metrics (one row per step; metrics.csv, runs.parquet). Columns of the "
            "'adoption' metric set are marked *:"
        )
        for name, text in DEFINITIONS.items():
            mark = "*" if name in SETS["adoption"] else " "
            print(f" {mark}{name:<24} {text}")


def cmd_data(args: argparse.Namespace) -> None:
    """List the catalogue of real data with sources, or print one file with its sources."""
    from sim.inputs import catalogue

    if args.name is None:
        print(
            f"Real data shipped with nextpractice ({catalogue.folder()}); "
            "`nextpractice data NAME` prints one with every source:"
        )
        for f in catalogue.catalogue():
            main = f.main_source()
            n_main = f.column("source").count(main)
            more = len(f.sources) - 1
            print(f"\n{f.name}\n  {f.title}")
            print(f"  years: {catalogue.year_span(f.years)} ({len(f.rows)} rows, {f.kind})")
            print(f"  unit: {f.unit}")
            print(f"  source: {main}: {f.sources[main]}")
            print(
                f"          ({n_main} of {len(f.rows)} rows"
                + (f"; {more} more source{'s' * (more > 1)})" if more else ")")
            )
        return
    f = catalogue.load(args.name)
    if args.csv:
        print(f.path.read_text(encoding="utf-8"), end="")
        return
    print(f"{f.name}: {f.title}")
    print(f"file: {f.path}")
    print(f"unit: {f.unit}; {f.kind}; years {catalogue.year_span(f.years)}")
    if f.what:
        print(f"what: {f.what}")
    print("sources:")
    for sid, text in f.sources.items():
        print(f"  {sid}: {text}")
    for note in f.notes:
        print(f"note: {note}")
    print()
    widths = [max(len(c), *(len(r[i]) for r in f.rows)) for i, c in enumerate(f.columns)]
    for row in (f.columns, *f.rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def cmd_init(args: argparse.Namespace) -> None:
    """Copy the built-in scenarios, experiments and starter notebook into a folder."""
    from sim.inputs.folders import resolve_out
    from sim.inputs.shipped import init

    target = resolve_out(args.dir, "DIR")
    files = init(target)
    print(
        f"copied {len(files)} files into {shown(target)}: scenarios/, experiments/, "
        f"notebooks/. Edit them, then e.g. "
        f"`nextpractice run {shown(target / 'scenarios' / 'top_down.yaml')}`"
    )


def cmd_sweep(args: argparse.Namespace) -> None:
    """Run an experiment file's design; results stream to Parquet chunks."""
    from sim.experiments.sweep import FAILED, failed_runs, run_sweep

    # Resolved and checked once, not probed: a finished sweep in a read-only folder is read.
    out = writable_dir(args.out or Path("runs") / Path(args.experiment).stem, probe=False)
    out = run_sweep(
        args.experiment, out, args.workers, args.scheduler, allow_failures=args.allow_failures
    )
    failed, done = failed_runs(out)
    note = (
        f" ({len(failed)} of {done} runs failed, accepted; {out / FAILED})" if len(failed) else ""
    )
    print(f"results in {shown(out)}{note}")


def cmd_analyze(args: argparse.Namespace) -> None:
    """Sensitivity indices and figures from a sweep's saved results."""
    from sim.analysis.analyze import analyze, headline

    out = analyze(args.results, args.out, discover=args.discover)
    table = headline(out)
    if table:
        print(table, end="\n\n")
    files = json.loads((out / "summary.json").read_text(encoding="utf-8"))["files"]
    print(f"wrote {len(files) + 1} files in {shown(out)}: {', '.join([*files, 'summary.json'])}")


def cmd_search(args: argparse.Namespace) -> None:
    """Worlds within the declared ranges where each policy is not the best, or is."""
    from sim.experiments.plan import plan_experiment
    from sim.experiments.search import WANTS, search

    plan = plan_experiment(args.experiment)
    policies = args.policy or list(plan.extra.get("policies") or [])
    measures = args.measure or list(plan.extra.get("measures") or [])
    wants = WANTS if args.want == "both" else (args.want,)
    rows = []
    for measure in measures:
        for policy in policies:
            for want in wants:
                found = search(
                    plan.path,
                    policy,
                    measure,
                    want,
                    n_sample=args.worlds,
                    generations=args.generations,
                    workers=args.workers or 1,
                )
                print(found.summary(), flush=True)
                rows.append(found)
    if args.out:
        import pandas as pd

        path = writable_dir(args.out) / "search.csv"
        pd.DataFrame(
            [
                {
                    "measure": f.measure,
                    "policy": f.policy,
                    "want": f.want,
                    "found": f.found,
                    "where": f.where,
                    "rival": f.rival,
                    "margin": f.margin,
                    "confirm_margin": f.confirm_margin,
                    "confirm_low": f.confirm_low,
                    "confirm_high": f.confirm_high,
                    "n_worlds": f.n_worlds,
                    **{f"world.{k}": v for k, v in f.world.items()},
                }
                for f in rows
            ]
        ).to_csv(path, index=False)
        print(f"wrote {shown(path)}")


def cmd_report(args: argparse.Namespace) -> None:
    """The analyst's briefing: one self-contained HTML page from saved results."""
    from sim.analysis.report import write_report

    res = write_report(args.dirs, args.out, args.question)
    if len(res.headline):
        print(res.headline.to_markdown(index=False), end="\n\n")
    for d in res.analysed:
        print(f"analysed {d.parent} from its saved results first (wrote {d})")
    print(f"wrote {res.path} ({', '.join(res.sections)}); it opens offline in any browser")


def cmd_calibrate(args: argparse.Namespace) -> None:
    """Fit parameters to an observed series by ABC-SMC; posterior, figures, forecast."""
    from sim.calibration.fit import calibrate, report
    from sim.calibration.selection import Selection
    from sim.calibration.selection import report as selection_report

    res = calibrate(args.calibration, args.out, **_fit_options(args))
    print(selection_report(res) if isinstance(res, Selection) else report(res))


def cmd_forecast(args: argparse.Namespace) -> None:
    """Rolling-origin forecast: fit to each origin, forecast, score against naive forecasts."""
    from sim.calibration.rolling import report, rolling

    res = rolling(
        args.calibration,
        args.out,
        args.origins,
        args.horizon,
        quick=args.quick,
        **_fit_options(args),
    )
    print(report(res))


def _fit_options(args: argparse.Namespace) -> dict[str, Any]:
    """What ``calibrate`` and ``forecast`` pass on alike: workers, failures, sizes, log."""
    return {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "progress": args.verbose,
        "allow_failures": args.allow_failures,
        "allow_long": args.allow_long,
        "say": lambda line: print(line, file=sys.stderr, flush=True),
        "sizes": _sizes(args),
    }


def cmd_validate(args: argparse.Namespace) -> None:
    """Known-answer and pattern checks, with a report."""
    from sim.analysis.validation import run_validation

    ok = run_validation(
        writable_dir(args.out or "runs/validation"),
        quick=args.quick,
        workers=args.workers,
        scheduler=args.scheduler,
    )
    if not ok:
        sys.exit(1)


def cmd_bench(args: argparse.Namespace) -> None:
    """Speed and memory figures beside their targets."""
    from sim.bench import run_bench

    run_bench(args.out)


def cmd_app(args: argparse.Namespace) -> None:
    """Serve the workshop app."""
    from sim.app import serve

    serve(args.scenario, args.port, host=args.host, room=args.room, resume=args.resume)


class _Help(argparse.HelpFormatter):
    """Help that states each option's default (when it has one worth stating)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or action.option_strings == []
        ):
            return text
        return f"{text} (default: %(default)s)"


class _TopHelp(argparse.RawDescriptionHelpFormatter, _Help):
    """The top-level help: keeps the command list's layout."""


_SCENARIO_HELP = (
    "a scenario file, or a built-in scenario's name: top_down, bottom_up, "
    "next_practice, england, workshop, classics/bass... (a file wins if both "
    "exist; `nextpractice init DIR` copies them all for editing)"
)
_SET_HELP = (
    "change one parameter for this command, e.g. --set tightness=0.8 (repeatable; "
    "`nextpractice params` lists them)"
)
_WORKERS_HELP = (
    "worker processes (default: the CPUs available; 1 runs in this process); "
    "results do not depend on it"
)
_SCHEDULER_HELP = (
    "run on a Dask cluster: the scheduler's address, e.g. tcp://host:8786 "
    "(its workers need nextpractice installed); --workers is then ignored"
)
_SIZES_HELP = {
    "population": "particles per generation, in place of the file's",
    "generations": "most ABC-SMC generations, in place of the file's",
    "predictive": "posterior predictive runs, in place of the file's",
    "repeats": "model selection: ABC runs from different seeds, in place of the file's",
}


def _size_options(parser: argparse.ArgumentParser, repeats: bool) -> None:
    """The options that run a calibration file at other sizes (a cheaper, vaguer run)."""
    for key, text in _SIZES_HELP.items():
        if key != "repeats" or repeats:
            parser.add_argument(
                f"--{key}",
                type=int,
                metavar="N",
                help=text
                + " (the same data, priors and seed; summary.json records the sizes used)",
            )


def _fit_arguments(parser: argparse.ArgumentParser, long_help: str, repeats: bool) -> None:
    """The options ``calibrate`` and ``forecast`` share: workers, failures, log, sizes.

    Args:
        parser: The command's parser.
        long_help: What ``--allow-long`` lets run (the commands count time differently).
        repeats: Whether the command takes ``--repeats`` (stories: calibrate only).
    """
    parser.add_argument("--workers", type=int, help=_WORKERS_HELP)
    parser.add_argument("--scheduler", metavar="ADDRESS", help=_SCHEDULER_HELP)
    parser.add_argument("--allow-failures", action="store_true", help=_ALLOW_HELP)
    parser.add_argument("--verbose", "-v", action="store_true", help="log each generation")
    parser.add_argument("--allow-long", action="store_true", help=long_help)
    _size_options(parser, repeats=repeats)


def _sizes(args: argparse.Namespace) -> dict[str, int | None]:
    return {k: getattr(args, k, None) for k in _SIZES_HELP}


_ALLOW_HELP = (
    "accept failed runs: exit 0 and report on the runs that finished (failed runs are "
    "always recorded with their errors, in failed_runs.csv; without this option a "
    "batch with failed runs exits with code 1 after saving everything)"
)
_EPILOG = """examples:
  nextpractice run top_down
  nextpractice compare top_down bottom_up next_practice --baseline top_down
  nextpractice sweep tight_loose && nextpractice analyze runs/tight_loose
  nextpractice report runs/compare runs/robustness --out briefing.html
  nextpractice params --outcomes
  nextpractice data ks2_english_level4_england
  nextpractice init my-study

`nextpractice COMMAND --help` gives each option's meaning and default."""
_DESCRIPTION = (
    "nextpractice: an agent-based simulation of how innovation spreads through a "
    "school system (Fullan's plateau effect, the tight-loose dilemma)."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``nextpractice``."""
    ap = argparse.ArgumentParser(
        prog="nextpractice", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=_TopHelp
    )
    ap.add_argument("--version", action="version", version=f"nextpractice {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, doc: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=doc, formatter_class=_Help)

    r = command(
        "run",
        "run one scenario",
        "Run one scenario once and write its per-step metrics (metrics.csv), its "
        "summary (summary.json: outcomes, final values, parameters, seed, version) "
        "and a figure (performance.svg; adoption.svg for the reduced diffusion "
        "modes). Lists every file it writes.",
    )
    r.add_argument("scenario", help=_SCENARIO_HELP)
    r.add_argument("--seed", type=int, default=1, help="seed of the run; same seed, same result")
    r.add_argument("--steps", type=int, help="steps to run (default: the scenario's n_steps)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help=_SET_HELP)
    r.add_argument("--out", help="output folder (default: runs/<scenario name>)")
    r.add_argument(
        "--tables",
        action="store_true",
        help="also write the per-practice tables: adoption.parquet (schools "
        "running each practice, each step) and practices.parquet (every "
        "practice at the end); large at England's size",
    )
    r.add_argument(
        "--png",
        action="store_true",
        help="also draw the figure as PNG with matplotlib (slower to start)",
    )
    r.set_defaults(fn=cmd_run)

    c = command(
        "compare",
        "compare scenarios over replications",
        "Run each scenario --replications times. Replication r of every scenario "
        "has the same seed (common random numbers), so differences are the "
        "scenarios' doing and can be paired; --baseline prints them. Runs through "
        "the sweep machinery (resumable; --workers or a Dask --scheduler). Writes "
        "runs.parquet (every step of every run), outcomes.csv (one row per run), "
        "summary.csv (per scenario and outcome: mean, 5th and 95th percentiles of "
        "runs, 95% interval of the mean), differences.csv (with --baseline) and "
        "compare.png; prints the main outcomes in the order the scenarios are given.",
    )
    c.add_argument("scenarios", nargs="+", metavar="scenario", help=_SCENARIO_HELP)
    c.add_argument("--replications", "-r", type=int, default=20, help="runs per scenario")
    c.add_argument(
        "--seed",
        type=int,
        default=1,
        help="root seed every run's seed derives from (as an experiment's "
        "root_seed: a sweep with the same root seed gives the same runs)",
    )
    c.add_argument("--steps", type=int, help="steps per run (default: each scenario's n_steps)")
    c.add_argument(
        "--baseline",
        metavar="NAME",
        help="also print and write (differences.csv) each scenario's paired "
        "difference from this one, with its 95%% interval",
    )
    c.add_argument("--workers", type=int, help=_WORKERS_HELP)
    c.add_argument("--scheduler", metavar="ADDRESS", help=_SCHEDULER_HELP)
    c.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help=_SET_HELP + "; applies to every scenario",
    )
    c.add_argument(
        "--out",
        help="output folder (default: runs/compare; a different "
        "comparison there is replaced, the same one resumes)",
    )
    c.add_argument(
        "--precision",
        action="append",
        type=_precision,
        metavar="[OUTCOME=]H",
        help="replications by precision: --replications is the first batch (at least "
        "10), then replications are added in batches until the 95%% interval of each "
        "scenario's paired difference from --baseline has a half-width of at most H, "
        "in the outcome's unit (H alone: final_perf_mean; repeatable for several "
        "outcomes); prints how many it used, precision.csv records each batch",
    )
    c.add_argument(
        "--max-replications",
        type=positive_int,
        metavar="N",
        help="with --precision, the most replications to run (default: ten times the "
        "first batch); the output says if the target was not reached",
    )
    c.add_argument("--allow-failures", action="store_true", help=_ALLOW_HELP)
    c.add_argument(
        "--posterior",
        metavar="DIR",
        help="a calibration's output folder: replication r of every scenario "
        "runs at the r-th weighted draw from its posterior (posterior predictive "
        "bands; see `nextpractice calibrate`)",
    )
    c.set_defaults(fn=cmd_compare)

    p = command(
        "params",
        "list every parameter, outcome or metric",
        "List every parameter with its value in the scenario, unit, allowed range, "
        "kind (uncertainty, lever, structure...) and meaning, then the rule slots; "
        "or, with --outcomes or --metrics, what the model reports and how each "
        "figure is defined.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        help="show the values of this scenario (file or built-in name) "
        "(default: the model's defaults)",
    )
    p.add_argument(
        "--outcomes",
        action="store_true",
        help="list every outcome (one value per run) with its definition",
    )
    p.add_argument(
        "--metrics",
        action="store_true",
        help="list every per-step metric (a column of metrics.csv) with its definition",
    )
    p.add_argument(
        "--basis",
        action="store_true",
        help="list every uncertainty's sweep range by what its reason rests on: a cited "
        "source, a judgement, or neither",
    )
    p.set_defaults(fn=cmd_params)

    s = command(
        "sweep",
        "run an experiment file",
        "Run an experiment file's design (grid, list, LHS, Morris, Sobol', or "
        "robustness: policies in sampled worlds), streaming results to Parquet chunks; "
        "run the same command again to resume after an interruption. Replication r "
        "has the same seed in every design row unless the file says seeds: "
        "{common: false}.",
    )
    s.add_argument(
        "experiment",
        help="an experiment file, or a built-in experiment's name ("
        + (", ".join(_builtin_experiments()) or "none in this build")
        + "; docs/experiments.md explains every key)",
    )
    s.add_argument("--out", help="output folder (default: runs/<experiment name>)")
    s.add_argument("--workers", type=int, help=_WORKERS_HELP)
    s.add_argument("--scheduler", metavar="ADDRESS", help=_SCHEDULER_HELP)
    s.add_argument("--allow-failures", action="store_true", help=_ALLOW_HELP)
    s.set_defaults(fn=cmd_sweep)

    a = command(
        "analyze",
        "analyse a sweep's results",
        "Sensitivity indices (Sobol', Morris) or effects (grid, list, LHS) with "
        "figures, from a sweep's saved results; never re-runs the model.",
    )
    a.add_argument("results", help="a sweep's (or compare's) output folder")
    a.add_argument("--out", help="output folder (default: <results>/analysis)")
    a.add_argument(
        "--discover",
        metavar="EXPRESSION",
        help="scenario discovery (PRIM, EMA workbench) on a case of interest: comparisons "
        'of outcomes, e.g. "final_perf_mean[next_practice] - final_perf_mean[top_down] < '
        '0" (robustness sweeps name policies in brackets), joined by and, or, not. '
        "Allowed, and nothing else: outcomes; numbers up to 1e15; + - * /; ** with a whole "
        "exponent from 1 to 4; abs(...); < <= > >= == != (chains too; each comparison "
        "reads an outcome); and, or, not; parentheses (&, | and ~ are refused: write and, "
        "or, not). Writes the boxes, the peeling trade-off and feature scores",
    )
    a.set_defaults(fn=cmd_analyze)

    se = command(
        "search",
        "find worlds where a policy is not the best, or is",
        "Can the model say no? For each policy and measure of a robustness design, search "
        "the declared ranges for a world where the policy is not the best (and one where it "
        "is): the design's own worlds first, then an optimiser (a (1+lambda) evolution "
        "strategy, the same seeds for every candidate); a world counts only when fresh seeds "
        "confirm it (95% interval of the paired margin). Prints each world found or the "
        "closest tried.",
    )
    se.add_argument("experiment", help="an experiment file with a robustness design")
    se.add_argument(
        "--policy", action="append", help="a policy to search for (repeatable; default: all)"
    )
    se.add_argument(
        "--measure", action="append", help="a design measure (repeatable; default: all)"
    )
    se.add_argument(
        "--want",
        choices=["not_best", "best", "both"],
        default="both",
        help="a world where the policy is not the best, where it is, or both (default)",
    )
    se.add_argument(
        "--worlds", type=positive_int, help="the design's first N worlds (default: all)"
    )
    se.add_argument(
        "--generations",
        type=int,
        default=8,
        help="most optimiser steps when the sampled worlds hold none (default 8; 0: none)",
    )
    se.add_argument("--workers", type=positive_int, help="worker processes (default 1)")
    se.add_argument("--out", help="also write what was found to search.csv in this folder")
    se.set_defaults(fn=cmd_search)

    rp = command(
        "report",
        "write the analyst's briefing (one HTML page)",
        "Write one self-contained HTML page (figures embedded; it opens offline) from "
        "the saved results of `compare`, a robustness `sweep` and `calibrate`, in any "
        "combination: the question, the scenarios and how they differ, the headline "
        "table in the reader's units (percentage of pupils at the expected standard, "
        "points of difference with 95% intervals, GBP m a year and GBP per school a year "
        "by payer), the figures, robustness (best-share, regret, where each strategy "
        "fails), the calibration's fit and forecast, and provenance (versions, seeds, "
        "scenario files, parameter changes from the defaults). Reads saved results only; "
        "a robustness sweep not yet analysed is analysed first. Prints the headline table.",
    )
    rp.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="folders written by compare, a robustness sweep (or its analysis folder) "
        "and calibrate",
    )
    rp.add_argument("--out", default="briefing.html", help="the HTML file to write")
    rp.add_argument(
        "--question",
        help="the question the briefing answers, in the reader's words (default: made "
        "from the scenarios compared)",
    )
    rp.set_defaults(fn=cmd_report)

    k = command(
        "calibrate",
        "fit parameters to an observed series (ABC-SMC)",
        "Approximate Bayesian computation by sequential Monte Carlo (pyabc): fit the "
        "parameters a calibration file names to an observed series, then forecast "
        "the years held back. Writes the weighted posterior (posterior.parquet), "
        "each generation's tolerance and acceptance rate, the posterior marginals "
        "and predictive band figures and the forecast table. Same seed, same "
        "posterior, on any number of workers. See docs/calibration.md.",
    )
    k.add_argument(
        "calibration", help="a calibration file, e.g. experiments/calibrate_ks2_english.yaml"
    )
    k.add_argument("--out", help="output folder (default: runs/<calibration file name>)")
    _fit_arguments(
        k,
        "run even when the least time is above an hour on the workers given (the "
        "least simulations and their time, from a pilot run, are printed before any "
        "calibration; a longer one is refused without this option)",
        repeats=True,
    )
    k.set_defaults(fn=cmd_calibrate)

    fc = command(
        "forecast",
        "rolling-origin forecast of a calibration, scored against naive forecasts",
        "Fit a calibration file again up to each origin year (its rolling: origins, or "
        "--origins), forecast the years after it (--horizon), and score every forecast by "
        "the CRPS of the posterior predictive sample and the coverage of its 50% and 90% "
        "bands, beside three naive forecasts fitted to the same years (last value, linear "
        "trend, logistic). Writes scores.csv, summary.csv and scores.png, and each fit's "
        "files under origin_<year>/. The cost is stated first. See docs/calibration.md.",
    )
    fc.add_argument(
        "calibration", help="a calibration file, e.g. experiments/calibrate_ks2_joint.yaml"
    )
    fc.add_argument("--out", help="output folder (default: runs/forecast_<file name>)")
    fc.add_argument(
        "--origins",
        type=int,
        nargs="+",
        metavar="YEAR",
        help="last fitted years (default: the file's)",
    )
    fc.add_argument(
        "--horizon", type=int, help="years forecast after each origin (default: the file's, or 5)"
    )
    fc.add_argument(
        "--quick",
        action="store_true",
        help="a small form to test the machinery (first two origins, population 12, two "
        "generations, 20 predictive runs): not a result to cite",
    )
    _fit_arguments(
        fc, "run even when the least time of all the fits is above an hour", repeats=False
    )
    fc.set_defaults(fn=cmd_forecast)

    v = command(
        "validate",
        "run the validation suite",
        "Known-answer checks (the classic diffusion curves) and pattern checks "
        "(the plateau, the tight-loose dilemma, plausibility against England's published "
        "results), with a report; exits 1 if a known-answer check fails (a pattern that "
        "does not hold is reported as a finding).",
    )
    v.add_argument(
        "--quick",
        action="store_true",
        help="fewer replications and smaller systems (about a minute)",
    )
    v.add_argument("--out", help="report folder (default: runs/validation)")
    v.add_argument("--workers", type=int, help=_WORKERS_HELP)
    v.add_argument("--scheduler", metavar="ADDRESS", help=_SCHEDULER_HELP)
    v.set_defaults(fn=cmd_validate)

    b = command(
        "bench",
        "speed and memory benchmarks",
        "Time the model (ms per step, runs per second, England's whole process from "
        "command to exit) and its memory, each beside its target.",
    )
    b.add_argument("--out", help="also write the figures to this JSON file")
    b.set_defaults(fn=cmd_bench)

    w = command(
        "app",
        "serve the workshop app",
        "Serve the workshop app (needs the app extra: pip install 'nextpractice[app]').",
    )
    w.add_argument(
        "scenario",
        nargs="?",
        help="scenario to serve (default: $NEXTPRACTICE_SCENARIO, else the "
        "built-in workshop scenario)",
    )
    w.add_argument("--port", type=int, default=8765, help="port to serve on")
    w.add_argument(
        "--room",
        action="store_true",
        help="a room: participants join from phones or laptops, each playing a school's "
        "head, while the trainer plays the centre (see docs/workshop.md)",
    )
    w.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on: 0.0.0.0 opens the app to the networks this laptop is "
        "on (needed for phones to join a room); prints a warning",
    )
    w.add_argument(
        "--resume",
        metavar="SESSION",
        help="resume a room from its session log (after a crash or a closed laptop)",
    )
    w.set_defaults(fn=cmd_app)

    d = command(
        "data",
        "the real data shipped, with sources",
        "List the real data nextpractice ships (KS2 results for England, the spread "
        "between schools, the spending the costs are read from), each with its years, "
        "unit and source; with NAME, print that file's table with every source, its "
        "caveats and what other sources print for each value. docs/sources.md says "
        "what the model takes from them.",
    )
    d.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help="a data file's name, e.g. ks2_english_level4_england (default: list them all)",
    )
    d.add_argument(
        "--csv", action="store_true", help="print the file itself (CSV with its source lines)"
    )
    d.set_defaults(fn=cmd_data)

    i = command(
        "init",
        "copy the built-in scenarios and experiments for editing",
        "Copy the built-in scenarios (with classics/), experiments and a starter "
        "notebook into DIR, to edit and run from there. Refuses to overwrite.",
    )
    i.add_argument("dir", metavar="DIR", help="folder to copy into (created if missing)")
    i.set_defaults(fn=cmd_init)
    return harden_parser(ap, _most_steps)  # checked types for --steps, --seed, --out...


def _builtin_experiments() -> list[str]:
    """The built-in experiments ``sweep`` runs by name (calibration files are not sweeps)."""
    from sim.inputs.shipped import names

    return [n for n in names("experiments") if not n.startswith("calibrate")]


def _most_steps() -> int:
    """The upper bound of ``--steps``: that of the parameter ``n_steps`` (6000)."""
    from sim.model.params import field_info

    return int(field_info("n_steps")["hi"])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script.

    A user error is one line on stderr and exit code 2; a batch with failed runs is one
    line (how many, the first error, where all are listed) and exit code 1, everything
    computed kept; anything unexpected is one line too (exit 1), with the traceback only
    when ``NEXTPRACTICE_DEBUG=1``.
    """
    args = build_parser().parse_args(argv)
    if args.fn is not cmd_run:  # run says when its imports are done; others, now
        _imports_done()
    try:
        args.fn(args)
    except UserError as exc:
        print(f"nextpractice: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except RunsFailed as exc:
        print(f"nextpractice: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("sim."):
            print(
                f"nextpractice: {args.command} is not available in this build ({exc.name})",
                file=sys.stderr,
            )
            return 2
        return _unexpected(exc)
    except KeyboardInterrupt:
        print("nextpractice: interrupted; files already written are kept", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, or the system: one line, the traceback on request
        return _unexpected(exc)
    return 0


def one_line(message: str, most: int = 5) -> str:
    """A (possibly multi-line) error message as one line: its first problems, then a count."""
    lines = [line.strip() for line in message.splitlines() if line.strip()] or ["error"]
    more = f"; and {len(lines) - most} more problem(s)" if len(lines) > most else ""
    return "; ".join(lines[:most]) + more


def _unexpected(exc: BaseException) -> int:
    import os

    if os.environ.get("NEXTPRACTICE_DEBUG") == "1":
        raise exc
    text = one_line(str(exc))
    text = text if len(text) <= 300 else text[:297] + "..."
    print(
        f"nextpractice: unexpected error: {type(exc).__name__}: "
        f"{text} (run with NEXTPRACTICE_DEBUG=1 for the "
        "traceback, and please report it)",
        file=sys.stderr,
    )
    return 1


#: Longest the command waits, once finished, for threads still running (seconds).
EXIT_WAIT_SECONDS = 15.0


def console(argv: list[str] | None = None) -> NoReturn:
    """The ``nextpractice`` command: :func:`main`, then exit without the interpreter's teardown.

    Once a command has returned, its files are written and closed; what is left is the
    interpreter tearing down some 1,600 modules (numba's, Mesa's, pandas'...), about
    0.3 s of a user's wait for nothing. So the exit handlers run (log flushing, weakref
    finalizers, multiprocessing's clean-up), the standard streams are flushed, and the
    process ends at once. Where a thread other than the main one is still running, it
    is given :data:`EXIT_WAIT_SECONDS` to end, and then the process ends anyway, saying
    which threads it left (a plug-in's stray thread must not keep the command alive for
    ever). Tests call :func:`main`, which returns.
    """
    import atexit
    import os
    import threading
    import time

    global _GC_HELD
    gc.disable()  # for the command's imports (see _imports_done)
    _GC_HELD = True
    code = main(argv)
    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join(max(0.0, deadline - time.monotonic()))
    left = [
        t.name
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if left:
        print(
            f"nextpractice: ended although {len(left)} thread(s) were still running "
            f"{EXIT_WAIT_SECONDS:g} s after the command finished ({', '.join(left[:3])}); "
            "a plug-in may have started them",
            file=sys.stderr,
        )
        code = code or 1
    atexit._run_exitfuncs()  # noqa: SLF001  (what the interpreter's exit would run first)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    console()
