"""The ``nextpractice`` command line.

Subcommands: ``run``, ``compare``, ``params``, ``sweep``, ``analyze``,
``validate``, ``bench`` and ``app``. User errors (a bad scenario, a bad
value) are printed as one clear message with exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim import __version__
from sim.errors import UserError

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _overrides(pairs: list[str] | None) -> dict:
    from sim.scenario import parse_assignment

    return dict(parse_assignment(s) for s in pairs or [])


def cmd_run(args: argparse.Namespace) -> None:
    """One run: metrics.csv, summary.json, performance.png (adoption.png in the reduced modes)."""
    from sim.plots import adoption_figure, performance_figure
    from sim.runner import run_model
    from sim.scenario import load_scenario

    params = load_scenario(args.scenario, _overrides(args.set))
    out = Path(args.out or Path("runs") / Path(args.scenario).stem)
    out.mkdir(parents=True, exist_ok=True)
    res = run_model(params, args.seed, args.steps, detail=True)
    res.metrics.to_csv(out / "metrics.csv", index=False)
    res.adoption.to_csv(out / "adoption.csv", index=False)
    res.practices.to_csv(out / "practices.csv", index=False)
    res.summary["scenario"] = str(args.scenario)
    (out / "summary.json").write_text(json.dumps(res.summary, indent=1, default=str))
    title = f"{Path(args.scenario).stem} (seed {args.seed})"
    if "perf_mean" not in res.metrics:  # the adoption metric set: nothing else moves
        adoption_figure(res.metrics, out / "adoption.png", title=title)
        print(f"wrote {out}/metrics.csv, summary.json, adoption.png")
        print(f"final share adopted {res.summary['final']['top_adoption']:.3f}")
        return
    performance_figure(res.metrics, out / "performance.png", title=title)
    o = res.summary["outcomes"]
    print(f"wrote {out}/metrics.csv, summary.json, performance.png")
    print(f"final mean performance {res.summary['final']['perf_mean']:.3f}; plateau level "
          f"{o['plateau_level']:.3f} from step {o['plateau_step']:.0f}")


def cmd_compare(args: argparse.Namespace) -> None:
    """Replicated comparison of scenarios: runs.parquet, summary.csv, compare.png."""
    from sim.plots import compare_figure
    from sim.runner import compare, load_runs
    from sim.scenario import load_scenario

    ov = _overrides(args.set)
    scenarios = {}
    for path in args.scenarios:
        label = Path(path).stem
        if label in scenarios:
            raise UserError(f"two scenarios are named {label!r}; give them different file names")
        scenarios[label] = load_scenario(path, ov)
        if scenarios[label].metrics != "full":
            raise UserError(f"{path}: metrics is {scenarios[label].metrics!r}, but compare "
                            "plots performance; add --set metrics=full, or use "
                            "`nextpractice run` for a reduced diffusion mode")
    out = Path(args.out or "runs/compare")
    compare(scenarios, args.replications, args.seed, out, args.steps, args.workers,
            progress=sys.stderr.isatty())
    compare_figure(load_runs(out, ["scenario", "year", "perf_mean", "perf_sd"]),
                   out / "compare.png")
    import pandas as pd

    s = pd.read_csv(out / "summary.csv")
    keep = ["gain_first_2y", "gain_last_5y", "plateau_level", "final_perf_mean",
            "final_perf_sd"]
    table = s[s["outcome"].isin(keep)].pivot(index="outcome", columns="scenario", values="mean")
    print(table.round(4).to_string())
    print(f"wrote {out}/runs.parquet, summary.csv, compare.png")


def cmd_params(args: argparse.Namespace) -> None:
    """List every parameter: value, unit, range, meaning."""
    from sim.params import parameter_table
    from sim.rules import DEFAULTS, RULES, STEP_ORDER
    from sim.scenario import load_scenario

    p = load_scenario(args.scenario).model_dump()
    p.update(p.pop("declared"))  # rules' and strategies' own parameters, keyed rule.param
    for info in parameter_table():
        rng = "" if info["lo"] is None and info["hi"] is None else f"[{info['lo']}, {info['hi']}]"
        flags = info["kind"] + (", live" if info["live"] else "")
        # A rule or strategy not in use is absent from ``declared``: it would run at its default.
        value = p.get(info["name"], info["default"])
        print(f"{info['name']:<26} = {value!r:<16} {info['unit']:<22} {rng:<16} "
              f"({flags})")
        print(f"    {info['meaning']}" + (f" [{info['ref']}]" if info.get("ref") else ""))
    print("\nRule slots (rules: {slot: name}), in step order; * marks the default:")
    for slot in STEP_ORDER:
        names = [("*" if DEFAULTS.get(slot) == n else "") + n for n in sorted(RULES[slot])]
        print(f"  {slot:<12} {', '.join(names + ['off'])}")


def cmd_sweep(args: argparse.Namespace) -> None:
    """Run an experiment file's design; results stream to Parquet chunks."""
    from sim.sweep import run_sweep

    out = run_sweep(args.experiment, args.out, args.workers, args.scheduler)
    print(f"results in {out}")


def cmd_analyze(args: argparse.Namespace) -> None:
    """Sensitivity indices and figures from a sweep's saved results."""
    from sim.analyze import analyze

    out = analyze(args.results, args.out)
    print(f"analysis in {out}")


def cmd_validate(args: argparse.Namespace) -> None:
    """Known-answer and pattern checks, with a report."""
    from sim.validation import run_validation

    ok = run_validation(Path(args.out or "runs/validation"), quick=args.quick)
    if not ok:
        sys.exit(1)


def cmd_bench(args: argparse.Namespace) -> None:
    """Speed and memory figures beside their targets."""
    from sim.bench import run_bench

    run_bench(args.out)


def cmd_app(args: argparse.Namespace) -> None:
    """Serve the workshop app."""
    from sim.app import serve

    serve(args.scenario, args.port)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``nextpractice``."""
    ap = argparse.ArgumentParser(prog="nextpractice", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"nextpractice {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run one scenario")
    r.add_argument("scenario")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--steps", type=int)
    r.add_argument("--set", action="append", metavar="KEY=VALUE")
    r.add_argument("--out")
    r.set_defaults(fn=cmd_run)

    c = sub.add_parser("compare", help="compare scenarios over replications")
    c.add_argument("scenarios", nargs="+")
    c.add_argument("--replications", "-r", type=int, default=20)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--steps", type=int)
    c.add_argument("--workers", type=int)
    c.add_argument("--set", action="append", metavar="KEY=VALUE")
    c.add_argument("--out")
    c.set_defaults(fn=cmd_compare)

    p = sub.add_parser("params", help="list every parameter")
    p.add_argument("scenario", nargs="?")
    p.set_defaults(fn=cmd_params)

    s = sub.add_parser("sweep", help="run an experiment file")
    s.add_argument("experiment")
    s.add_argument("--out")
    s.add_argument("--workers", type=int)
    s.add_argument("--scheduler", metavar="ADDRESS")
    s.set_defaults(fn=cmd_sweep)

    a = sub.add_parser("analyze", help="analyse a sweep's results")
    a.add_argument("results")
    a.add_argument("--out")
    a.set_defaults(fn=cmd_analyze)

    v = sub.add_parser("validate", help="run the validation suite")
    v.add_argument("--quick", action="store_true")
    v.add_argument("--out")
    v.set_defaults(fn=cmd_validate)

    b = sub.add_parser("bench", help="speed and memory benchmarks")
    b.add_argument("--out")
    b.set_defaults(fn=cmd_bench)

    w = sub.add_parser("app", help="serve the workshop app")
    w.add_argument("scenario", nargs="?")
    w.add_argument("--port", type=int, default=8765)
    w.set_defaults(fn=cmd_app)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except UserError as exc:
        print(f"nextpractice: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("sim."):
            print(f"nextpractice: {args.command} is not available in this build ({exc.name})",
                  file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
