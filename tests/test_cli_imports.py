"""The command's light import of Mesa leaves Mesa as a plain import does."""

import json
import subprocess
import sys

_PROBE = """
import inspect, json, logging, sys
saved = (inspect.stack, inspect.getouterframes, inspect.getmodule)
if sys.argv[1] == "light":
    from sim.cli import _import_mesa
    _import_mesa()
else:
    import mesa
import mesa.mesa_logging as ml
from mesa import Model

seen = []
class Keep(logging.Handler):
    def emit(self, record):
        seen.append(record.getMessage())
log = logging.getLogger("MESA")
log.setLevel(logging.DEBUG)
log.addHandler(Keep())
Model(rng=1)
print(json.dumps({
    "loggers": sorted(ml._module_loggers),
    "messages": [m.split(" with ")[0] for m in seen],
    "inspect_restored": (inspect.stack, inspect.getouterframes, inspect.getmodule) == saved,
}))
"""


def _probe(how: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, how], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_light_import_names_mesas_loggers_as_the_plain_one():
    """Module loggers, the method logger's class name, and inspect as it was."""
    plain, light = _probe("plain"), _probe("light")
    assert light == plain
    assert plain["loggers"] == ["mesa.mesa_logging", "mesa.model"]
    assert plain["messages"] == ["calling Model.__init__"]
    assert light["inspect_restored"]


_SPACES = """
import json, sys
if sys.argv[1] == "light":
    from sim.cli import _import_mesa
    _import_mesa()
else:
    import mesa
import mesa
before = {m: m in sys.modules for m in ("scipy.spatial", "networkx", "pandas")}
from mesa.space import MultiGrid
import mesa.experimental.continuous_space as cs
grid = mesa.discrete_space.OrthogonalMooreGrid
same = [mesa.space.MultiGrid is MultiGrid, cs.ContinuousSpace.__module__,
        grid.__module__, type(mesa.discrete_space).__name__]
names = {
    m: sorted(k for k in vars(sys.modules[m]) if not k.startswith("__"))
    for m in ("mesa.discrete_space", "mesa.experimental.continuous_space", "mesa.space")
}
print(json.dumps({"before": before, "names": names, "same": same}))
"""


def test_the_light_import_puts_off_mesas_spaces_and_gives_them_whole_when_asked():
    """No scipy.spatial or networkx until a space is asked for; then the same names."""

    def probe(how):
        out = subprocess.run(
            [sys.executable, "-c", _SPACES, how], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    plain, light = probe("plain"), probe("light")
    assert plain["before"] == {"scipy.spatial": True, "networkx": True, "pandas": True}
    assert light["before"] == {"scipy.spatial": False, "networkx": False, "pandas": True}
    assert light["names"] == plain["names"]
    assert all(light["names"].values())
    assert (
        light["same"]
        == plain["same"]
        == [
            True,
            "mesa.experimental.continuous_space.continuous_space",
            "mesa.discrete_space.grid",
            "module",
        ]
    )


def _package(tmp_path, runs):
    """A package ``pk`` whose ``__init__`` binds its subpackage ``sub`` as Mesa's does."""
    (tmp_path / "pk" / "sub").mkdir(parents=True)
    (tmp_path / "pk" / "__init__.py").write_text("import pk.sub as sub\n")
    (tmp_path / "pk" / "sub" / "__init__.py").write_text(
        f"import pathlib, time\n"
        f"p = pathlib.Path({str(runs)!r})\n"
        f"p.write_text(p.read_text() + 'x')\n"
        f"time.sleep(0.05)\n"
        f"VALUE = 42\n"
    )
    (tmp_path / "pk" / "sub" / "leaf.py").write_text("LEAF = 1\n")
    runs.write_text("")


def test_a_deferred_module_runs_once_on_first_ask_from_any_thread(tmp_path, monkeypatch):
    """Its code waits for a name it lacks, runs once under threads, and is the module bound."""
    import threading

    from sim.cli import _defer

    runs = tmp_path / "runs.txt"
    _package(tmp_path, runs)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "pk" or m.startswith("pk.")]:
        monkeypatch.delitem(sys.modules, name)
    try:
        _defer(("pk.sub", "pk.absent", "nosuchtop.sub"))
        assert "pk.absent" not in sys.modules and "nosuchtop.sub" not in sys.modules
        import pk

        assert runs.read_text() == ""  # bound, not run
        import pk.sub.leaf  # a submodule is found without running the package

        assert pk.sub.leaf.LEAF == 1 and runs.read_text() == ""
        seen = []
        threads = [threading.Thread(target=lambda: seen.append(pk.sub.VALUE)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert seen == [42] * 4
        assert runs.read_text() == "x"  # once
        assert sys.modules["pk.sub"] is pk.sub and type(pk.sub).__name__ == "module"
    finally:
        for name in [m for m in sys.modules if m == "pk" or m.startswith("pk.")]:
            del sys.modules[name]


def test_a_run_imports_no_space_graph_or_linalg_library():
    """scipy.spatial, scipy.sparse, networkx and scipy.linalg's code wait for a user of them.

    A run of the model (its kernels loaded: numba's first call looks for BLAS) never asks.
    """
    code = (
        "import json, sys, types\n"
        "from sim.cli import _import_mesa\n"
        "_import_mesa()\n"
        "import sim.experiments.runner, sim.model.scenario, sim.model.builtin\n"
        "from sim.model.model import NextPracticeModel\n"
        "p = sim.model.scenario.load_scenario('next_practice',"
        " {'n_schools': 60, 'n_authorities': 3})\n"
        "NextPracticeModel(p, rng=1).run(3)\n"
        "ran = [m for m in ('scipy.spatial', 'scipy.sparse', 'networkx', 'numpy.f2py')"
        " if m in sys.modules]\n"
        "ran += [m for m in ('scipy.linalg', 'mesa.space')"
        " if type(sys.modules[m]) is types.ModuleType]\n"
        "print(json.dumps(ran))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
