"""How much of a step is compiled work, and how much the Python glue around it.

Run: ``python benchmarks/kernel_share.py [--schools N | --scenario england] [--skip 60]``.

Issue 27's speed targets ask for a step near its cost before costs. The step is
compiled kernels (numba) called from rules' Python and numpy glue; compiling each
rule whole would remove glue, never the kernels' own work. This prints, for a
``--schools`` system (the ``next_practice`` scenario, as ``step_cpu_time.py``) or for
``--scenario england``, the CPU time a step (``process_time``), the share of it spent
inside compiled calls made from Python (every numba dispatcher the model's rules,
their helpers and the package's modules hold is wrapped in a timer; calls a kernel
makes to other kernels stay inside it), the calls a step, and the largest (``--top``, twelve).
Before them, the same step by rule: each rule's ``apply`` (and the step's record,
``_record``) timed whole, with the compiled share inside it; ``other`` is the rest of the
step. ``--skip`` untimed steps run first (3: every kernel loaded; 60 for the middle of
England's run, where its steps cost most).

The wrappers add about a microsecond a call, counted in the step, not in the
kernels: the share is a lower bound on compiled work. A kernel reached some other
way than an attribute of a module, a rule, the centre's strategy or an object one of
them holds (to a depth of four) is not wrapped and counts as glue. Nothing computed
changes.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

from numba.core.registry import CPUDispatcher


def main() -> None:
    """Run a warmed model with its kernels timed and print the split."""
    from sim.bench import _params, _warm
    from sim.model.model import NextPracticeModel
    from sim.model.scenario import load_scenario

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, default=1000)
    ap.add_argument("--scenario", help="a shipped scenario at its own size (e.g. england)")
    ap.add_argument("--steps", type=int, default=60, help="steps timed, after --skip untimed")
    ap.add_argument("--skip", type=int, default=3, help="untimed steps first (at least 3)")
    ap.add_argument("--top", type=int, default=12, help="how many of the largest to list")
    a = ap.parse_args()
    _warm()
    params = load_scenario(a.scenario) if a.scenario else _params(a.schools)
    model = NextPracticeModel(params, rng=1)
    model.run(max(3, a.skip))  # every kernel loaded, first-step costs out of the way
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    inside = [0]
    rule_now = ["other"]  # whose turn it is: a rule's name, _record, or other
    by_rule: collections.Counter[str] = collections.Counter()
    by_rule_compiled: collections.Counter[str] = collections.Counter()

    def timed(kernel, name):
        def call(*args, **kw):
            if inside[0]:
                return kernel(*args, **kw)
            inside[0] += 1
            t0 = time.process_time_ns()
            try:
                return kernel(*args, **kw)
            finally:
                d = time.process_time_ns() - t0
                spent[name] += d
                by_rule_compiled[rule_now[0]] += d
                calls[name] += 1
                inside[0] -= 1

        return call

    wrapped = 0
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith("sim"):
            continue
        for key, value in list(vars(module).items()):
            if isinstance(value, CPUDispatcher):
                setattr(module, key, timed(value, f"{module.__name__}.{key}"))
                wrapped += 1
            elif isinstance(value, type) and value.__module__.startswith("sim"):
                for attr, member in list(vars(value).items()):
                    fn = member.__func__ if isinstance(member, staticmethod) else member
                    if isinstance(fn, CPUDispatcher):
                        setattr(value, attr, staticmethod(timed(fn, f"{value.__name__}.{attr}")))
                        wrapped += 1
    seen: set[int] = set()

    def walk(obj, depth: int = 0) -> None:
        nonlocal wrapped
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        fields = getattr(obj, "__dict__", None)
        if not isinstance(fields, dict):
            return
        for key, value in list(fields.items()):
            items = value.values() if isinstance(value, dict) else value
            if isinstance(value, CPUDispatcher):
                setattr(obj, key, timed(value, f"{type(obj).__name__}.{key}"))
                wrapped += 1
            elif isinstance(value, list | tuple | dict):
                for item in items:
                    if type(item).__module__.startswith("sim"):
                        walk(item, depth + 1)
            elif type(value).__module__.startswith("sim"):
                walk(value, depth + 1)

    for rule in model._pipeline:  # noqa: SLF001
        walk(rule)
    # The centre's strategy binds its kernels on itself; the rule that runs it
    # (CentreActs) reaches it through the model, not as an attribute of its own.
    walk(getattr(model, "strategy", None))

    def turn(f, name):
        def run_turn(*args):
            rule_now[0] = name
            t0 = time.process_time_ns()
            try:
                return f(*args)
            finally:
                by_rule[name] += time.process_time_ns() - t0
                rule_now[0] = "other"

        return run_turn

    for rule in model._pipeline:  # noqa: SLF001
        rule.apply = turn(rule.apply, type(rule).__name__)
    model._record = turn(model._record, "_record")  # noqa: SLF001
    t0 = time.process_time_ns()
    model.run(a.steps)
    step = (time.process_time_ns() - t0) / a.steps
    kernels = sum(spent.values()) / a.steps
    size = a.scenario or f"{a.schools} schools"
    print(
        f"{size}: {wrapped} compiled functions wrapped; a step {step / 1e6:.3f} ms of CPU, "
        f"{kernels / 1e6:.3f} ms of it inside compiled calls ({kernels / step:.0%}), "
        f"{sum(calls.values()) / a.steps:.0f} compiled calls a step"
    )
    by_rule["other"] = step * a.steps - sum(by_rule.values())
    print("  by rule, us a step (total, inside compiled calls):")
    for name, ns in by_rule.most_common():
        print(f"  {ns / a.steps / 1e3:8.1f} {by_rule_compiled[name] / a.steps / 1e3:8.1f}  {name}")
    print("  the largest compiled calls:")
    for name, ns in spent.most_common(a.top):
        print(f"  {ns / a.steps / 1e3:8.1f} us  {calls[name] / a.steps:5.1f} a step  {name}")


if __name__ == "__main__":
    main()
