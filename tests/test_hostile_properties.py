"""Property-based tests of hostile input (issue 21): generated files and command lines.

Hypothesis mutates the shipped scenario and experiment files (dropped keys, wrong
types, odd YAML, bytes, huge numbers, unicode, deep nesting) and builds command
lines with hostile values. Each case must end in either a clean run or a non-zero
exit with ONE error line and no traceback, within a time limit. Most cases call
:func:`sim.cli.main` in this process (fast); tests/test_hostile_inputs.py runs a
few real processes. The number of generated cases is printed at the end (``-s``).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core.errors import UserError
from sim.experiments import plan_experiment
from tests.conftest import ROOT, SCENARIOS

#: Generated cases per property test, printed when the module ends.
CASES: Counter = Counter()
#: How the cases ended: exit code 0 (a clean run) or the error's exit code.
ENDINGS: Counter = Counter()
#: Longest one case may take (seconds): a short run, or an error.
LIMIT_S = 20

# Small shipped scenarios: a two-step run of each takes well under a second.
SMALL = [
    "workshop",
    "top_down",
    "bottom_up",
    "next_practice",
    "burning_platform",
    "system_leadership",
    "learning_project",
]
BASES = {n: yaml.safe_load((SCENARIOS / f"{n}.yaml").read_text()) for n in SMALL}
EXPERIMENTS = {p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / "experiments").glob("*.yaml")}

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module", autouse=True)
def _report_cases():
    yield
    total = sum(CASES.values())
    print(
        f"\nhostile property cases generated: {total} ({dict(CASES)}); command-line "
        f"endings by exit code: {dict(ENDINGS)}"
    )


def call(argv: list, capsys) -> tuple[int, str]:
    t0 = time.monotonic()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    assert time.monotonic() - t0 < LIMIT_S, f"took too long: {argv}"
    ENDINGS[rc] += 1
    return rc, capsys.readouterr().err


def clean_or_one_line(rc, err: str) -> None:
    assert "Traceback" not in err, err
    if rc == 0:
        return
    assert rc in (1, 2), (rc, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "unexpected error" not in err, err  # a generated input is a user's error, not a bug
    assert len(lines[0]) < 4000, len(lines[0])


# ------------------------------------------------------------------ values and mutations

huge = st.sampled_from([10**30, -(10**30), 2**63, 1e308, float("inf"), float("-inf"), float("nan")])
odd_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 300),
    huge,
    st.floats(-3, 3, allow_nan=False),
    odd_text,
    st.sampled_from(["yes", "on", "050", "1:20", "0x1F", "~", "", "1e400"]),
)


def nested(depth: int):
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(odd_text, inner, max_size=3)
        ),
        max_leaves=depth,
    )


values = st.one_of(scalars, nested(6))


@st.composite
def mutated(draw, base: dict, keys: list[str]) -> dict:
    """A copy of ``base`` with keys dropped, changed, added, renamed or a number quoted."""
    data = dict(base)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["drop", "set", "add", "rename", "quote"]))
        present = sorted(data)
        typed = sorted(k for k, v in data.items() if isinstance(v, int | float))
        if op == "quote" and typed:  # "0.5": text, refused (tests/test_strict_types.py)
            key = draw(st.sampled_from(typed))
            data[key] = str(data[key]).lower()
        elif op == "drop" and present:
            data.pop(draw(st.sampled_from(present)))
        elif op == "set":
            data[draw(st.sampled_from(keys))] = draw(values)
        elif op == "add":
            data[draw(odd_text)] = draw(values)
        elif present:
            old = draw(st.sampled_from(present))
            data[old + draw(st.sampled_from(["_", "s", "X", " "]))] = data.pop(old)
    return data


def dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@st.composite
def odd_yaml(draw, text: str) -> bytes:
    """Text damaged at the byte level: re-encoded, cut, tabs, control bytes, junk lines."""
    how = draw(
        st.sampled_from(
            ["as is", "utf-16", "latin-1", "cut", "tab", "junk", "duplicate", "alias", "deep"]
        )
    )
    if how == "utf-16":
        return text.encode("utf-16")
    if how == "latin-1":
        return text.encode("latin-1", "replace") + b"description: \xe9t\xe9\n"
    if how == "cut":
        raw = text.encode()
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    if how == "tab":
        return text.replace("  ", "\t").encode()
    if how == "junk":
        return text.encode() + draw(st.binary(max_size=40))
    if how == "duplicate":
        first = text.splitlines()[0] if text.strip() else "tightness: 0.5"
        return (text + first + "\n").encode()
    if how == "alias":
        return (text + "x: &x [1, 2]\ny: [*x, *x]\n").encode()
    if how == "deep":
        n = draw(st.integers(20, 3000))
        return (text + "rules: " + "[" * n + "]" * n + "\n").encode()
    return text.encode()


# ------------------------------------------------------------------ scenario files


def param_keys() -> list[str]:
    from sim.model.params import Params

    return [*Params.model_fields, "extends", "description", "plugins"]


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
def test_generated_scenarios_run_cleanly_or_fail_in_one_line(tmp_path_factory, capsys, data):
    CASES["scenario run"] += 1
    tmp = tmp_path_factory.mktemp("scen")
    name = data.draw(st.sampled_from(SMALL))
    base = dict(BASES[name])
    if "extends" in base:
        base["extends"] = str(SCENARIOS / base["extends"])
    changed = data.draw(mutated(base, param_keys()))
    raw = data.draw(odd_yaml(dump(changed)))
    path = tmp / "s.yaml"
    path.write_bytes(raw)
    rc, err = call(["run", path, "--steps", "2", "--out", tmp / "out"], capsys)
    clean_or_one_line(rc, err)


@settings(SETTINGS, max_examples=150)
@given(raw=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_as_a_scenario_never_trace(tmp_path_factory, capsys, raw):
    CASES["scenario bytes"] += 1
    path = tmp_path_factory.mktemp("bytes") / "s.yaml"
    path.write_bytes(raw)
    clean_or_one_line(*call(["params", path], capsys))


@settings(SETTINGS, max_examples=60)
@given(key=st.sampled_from(param_keys()), value=values)
def test_any_value_for_any_key_via_set_never_traces(tmp_path_factory, capsys, key, value):
    CASES["--set value"] += 1
    text = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    argv = ["params", SCENARIOS / "workshop.yaml"]
    from sim.model.scenario import load_scenario, parse_assignment

    try:  # the same path as run's --set, without running
        load_scenario(SCENARIOS / "workshop.yaml", dict([parse_assignment(f"{key}={text}")]))
    except UserError as exc:
        assert "Traceback" not in str(exc)
    clean_or_one_line(*call(argv, capsys))


# ------------------------------------------------------------------ experiment files


def experiment_keys() -> list[str]:
    from sim.experiments import Experiment

    return list(Experiment.model_fields)


@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_generated_experiments_plan_cleanly_or_raise_a_user_error(tmp_path_factory, data):
    CASES["experiment plan"] += 1
    tmp = tmp_path_factory.mktemp("exp")
    base = dict(EXPERIMENTS[data.draw(st.sampled_from(sorted(EXPERIMENTS)))])
    if isinstance(base.get("scenario"), str):
        base["scenario"] = str((ROOT / "experiments" / base["scenario"]).resolve())
    changed = data.draw(mutated(base, experiment_keys()))
    if isinstance(changed.get("design"), dict) and data.draw(st.booleans()):
        changed["design"] = data.draw(
            mutated(changed["design"], ["method", "n", "factors", "levels", "rows"])
        )
    path = tmp / "e.yaml"
    path.write_bytes(data.draw(odd_yaml(dump(changed))))
    t0 = time.monotonic()
    try:
        plan_experiment(path)
    except UserError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)
    assert time.monotonic() - t0 < LIMIT_S


ISHIGAMI = {
    "model": "ishigami",
    "root_seed": 3,
    "replications": 2,
    "chunk_size": 5,
    "design": {
        "method": "grid",
        "factors": {"x1": {"range": [-1.0, 1.0], "n": 3}, "strategy": {"values": ["plain"]}},
    },
}


@settings(SETTINGS, max_examples=30)
@given(data=st.data())
def test_generated_ishigami_sweeps_run_and_analyze_or_fail_in_one_line(
    tmp_path_factory, capsys, data
):
    CASES["sweep+analyze"] += 1
    tmp = tmp_path_factory.mktemp("sweep")
    changed = data.draw(mutated(ISHIGAMI, experiment_keys()))
    if isinstance(changed.get("design"), dict) and data.draw(st.booleans()):
        changed["design"] = data.draw(mutated(changed["design"], ["method", "n", "factors"]))
    path = tmp / "e.yaml"
    path.write_text(dump(changed))
    rc, err = call(["sweep", path, "--out", tmp / "o", "--workers", "1"], capsys)
    clean_or_one_line(rc, err)
    if rc == 0:
        clean_or_one_line(*call(["analyze", tmp / "o"], capsys))


# ------------------------------------------------------------------ damaged sweep folders

#: A finished sweep with per-step series (built once), and its files' bytes.
_REFERENCE: dict[str, object] = {}


def _reference_sweep(tmp_path_factory):
    from tests.test_series_chunks import series_sweep, snapshot

    if not _REFERENCE:
        exp, out = series_sweep(tmp_path_factory.mktemp("reference"))
        _REFERENCE.update(exp=exp, out=out, files=snapshot(out))
    return _REFERENCE["exp"], _REFERENCE["out"], _REFERENCE["files"]


@st.composite
def damages(draw) -> list[tuple[str, int, str, int]]:
    """One to three damages: (results or series, chunk, how, a number for how)."""
    one = st.tuples(
        st.sampled_from(["results", "series"]),
        st.integers(0, 7),
        st.sampled_from(["cut", "empty", "other chunk", "delete", "flip", "append"]),
        st.integers(0, 10**6),
    )
    return draw(st.lists(one, min_size=1, max_size=3))


@settings(SETTINGS, max_examples=25)
@given(hurt=damages())
def test_damaged_sweep_folders_are_refused_in_one_line_and_repaired_on_resume(
    tmp_path_factory, capsys, hurt
):
    """Results and series chunks cut, emptied, swapped, deleted or flipped: readers refuse
    in one line (or read a folder still whole), and a resume restores every byte."""
    import shutil

    from sim.experiments.sweep import load_series
    from tests.test_series_chunks import resume, snapshot

    CASES["damaged sweep folder"] += 1
    exp, reference, files = _reference_sweep(tmp_path_factory)
    out = tmp_path_factory.mktemp("damaged") / "out"
    shutil.copytree(reference, out)
    for folder, k, how, n in hurt:
        path = out / folder / f"chunk-{k:06d}.parquet"
        if not path.exists():
            continue
        data = path.read_bytes()
        if how == "cut":
            path.write_bytes(data[: n % len(data)])
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "other chunk":
            other = out / folder / f"chunk-{(k + 1 + n % 7) % 8:06d}.parquet"
            if other.exists():
                path.write_bytes(other.read_bytes())
        elif how == "delete":
            path.unlink()
        elif how == "flip":
            i = n % len(data)
            path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
        else:
            path.write_bytes(data + b"\x00" * (1 + n % 64))
    rc, err = call(["analyze", out, "--out", out.parent / "analysis"], capsys)
    clean_or_one_line(rc, err)
    try:
        load_series(out)
    except UserError as exc:
        assert "\n" not in str(exc) and "again" in str(exc)
    resume(exp, out)
    capsys.readouterr()
    assert snapshot(out) == files
    clean_or_one_line(*call(["analyze", out, "--out", out.parent / "analysis"], capsys))


# ------------------------------------------------------------------ command lines

ints = st.one_of(
    st.integers(-3, 3), st.sampled_from(["x", "", "1.5", "1e3", "-0", "99999999999", "2" * 40, "٣"])
)
outs = st.sampled_from(
    ["/proc/np", "/sys/np", "/dev/np", str(ROOT / "pyproject.toml"), "/tmp/" + "o" * 300, "", "OK"]
)


@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_generated_command_lines_run_cleanly_or_fail_in_one_line(tmp_path_factory, capsys, data):
    CASES["command line"] += 1
    tmp = tmp_path_factory.mktemp("argv")
    command = data.draw(st.sampled_from(["run", "compare", "params", "sweep", "analyze"]))
    argv: list = [command]
    target = {
        "run": SCENARIOS / "workshop.yaml",
        "compare": SCENARIOS / "workshop.yaml",
        "params": SCENARIOS / "workshop.yaml",
        "sweep": tmp / "e.yaml",
        "analyze": tmp,
    }[command]
    (tmp / "e.yaml").write_text(dump(ISHIGAMI))
    argv.append(data.draw(st.sampled_from([target, tmp / "missing.yaml", tmp, "/dev/null"])))
    options = {
        "run": ["--steps", "--seed", "--out", "--set"],
        "compare": ["--steps", "--seed", "--replications", "--workers", "--out"],
        "params": [],
        "sweep": ["--workers", "--out", "--scheduler"],
        "analyze": ["--out"],
    }[command]
    chosen = (
        data.draw(st.lists(st.sampled_from(options), unique=True, max_size=3)) if options else []
    )
    for opt in chosen:
        if opt == "--out":
            value = data.draw(outs)
            value = tmp / "out" if value == "OK" else value
        elif opt == "--set":
            value = data.draw(
                st.sampled_from(
                    [
                        "tightness=2",
                        "n_slots=yes",
                        "extends=a.yaml",
                        "nokey=1",
                        "x",
                        "n_schools=050",
                    ]
                )
            )
        elif opt == "--scheduler":
            value = data.draw(st.sampled_from(["tcp://", "::::", "tcp://h:0", "a b"]))
        else:
            value = data.draw(ints)
            if opt in ("--steps", "--replications", "--workers") and value in (1, 2, 3):
                value = 1 if opt == "--workers" else 2  # a valid value stays small
        argv += [opt, value]
    if command in ("run", "compare") and "--steps" not in argv:
        argv += ["--steps", "2"]
    if command == "compare" and "--replications" not in argv:
        argv += ["--replications", "2"]
    if command in ("compare", "sweep") and "--workers" not in argv:
        argv += ["--workers", "1"]
    if "--out" not in argv and command != "params":
        argv += ["--out", tmp / "default-out"]
    clean_or_one_line(*call(argv, capsys))


@settings(SETTINGS, max_examples=30)
@given(
    port=st.one_of(
        st.integers(-10, 0), st.integers(65536, 10**6), st.sampled_from(["http", "", "80.5"])
    )
)
def test_a_bad_port_is_refused_before_serving(capsys, port):
    CASES["app port"] += 1
    rc, err = call(["app", "--port", port], capsys)
    assert rc == 2
    clean_or_one_line(rc, err)


def test_cases_were_generated():
    # Runs last in this module (pytest keeps file order): every property ran its examples.
    if len(CASES) < 7:
        pytest.skip("run the whole module to count the cases")
    assert sum(CASES.values()) >= 300
