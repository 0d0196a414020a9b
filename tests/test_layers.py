"""The layers of ``sim/``: rooms on floors, every import pointing down, no cycle.

Imports are read from the source with ``ast``, wherever they are in a
module: at module level, under ``if TYPE_CHECKING:`` and inside functions.
All count. A type-only import is still a dependency a reader must follow (and
the reason lower layers are typed against :class:`sim.core.registry.ModelLike`,
not the model class), and a function-level import is a dependency that merely
runs late. Only explicit imports count: importing ``sim.rules.judged`` is not
taken to import ``sim.rules``'s ``__init__`` (every submodule of a package
does that, and the package importing its submodules is then no cycle).

A **room** is a folder of ``sim/`` (``sim.core``, ``sim.rules``...) or one of the
modules that stand apart (``sim.cli``, ``sim.bench``; ``sim`` itself holds only
the version). :data:`FLOORS` says where each room stands; a module may import its
own room and rooms on lower floors, never a room on its own floor or above.
``docs/developing.md`` draws the same house (checked below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def imports_of(
    path: Path, known: set[str], module_level_only: bool = False, text: str | None = None
) -> set[str]:
    """The modules of ``sim`` that a file imports (``known``: every module of ``sim``).

    ``text``: the source to read as if it were that file's (default: the file's).
    """
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text() if text is None else text)
    nodes = (
        ast.walk(tree)
        if not module_level_only
        else [
            n
            for stmt in tree.body
            for n in ast.walk(stmt)
            if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
    )
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    out.add(sub)
                elif base in known:
                    out.add(base)
    out.discard(name)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ``sim`` it imports."""
    mods = _modules()
    known = set(mods)
    return {m: imports_of(p, known) for m, p in mods.items()}


#: Room -> floor. A room imports only rooms on lower floors (and itself).
FLOORS: dict[str, int] = {
    "sim": 0,
    "sim.core": 0,
    "sim.inputs": 1,
    "sim.system": 1,
    "sim.rules": 2,
    "sim.model": 3,
    "sim.experiments": 4,
    "sim.analysis": 5,
    "sim.calibration": 6,
    "sim.app": 6,
    "sim.bench": 6,
    "sim.cli": 7,
}


def room_of(module: str) -> str:
    """The room a module of ``sim`` belongs to: its first-level folder, or itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def room_graph(graph: dict[str, set[str]] | None = None) -> dict[str, dict[str, set[str]]]:
    """Room -> room it imports -> the module-level imports that make that arrow."""
    graph = import_graph() if graph is None else graph
    out: dict[str, dict[str, set[str]]] = {}
    for m, deps in graph.items():
        for d in deps:
            a, b = room_of(m), room_of(d)
            if a != b:
                out.setdefault(a, {}).setdefault(b, set()).add(f"{m} -> {d}")
    return out


def arrows_up(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a room to a room on its own floor or above (should be none)."""
    bad = []
    for a, targets in room_graph(graph).items():
        for b, why in targets.items():
            if FLOORS[b] >= FLOORS[a]:
                bad += sorted(why)
    return bad


def drawing() -> str:
    """The house as text: each floor from the top, its rooms and the rooms each imports."""
    rooms = room_graph()
    lines = []
    for floor in sorted(set(FLOORS.values()), reverse=True):
        for r in sorted(k for k, f in FLOORS.items() if f == floor):
            below = ", ".join(sorted(x.removeprefix("sim.") or "sim" for x in rooms.get(r, {})))
            name = r.removeprefix("sim.") if r != "sim" else "sim (version)"
            lines.append(f"{floor}  {name:<14} -> {below or '(nothing)'}")
    return "\n".join(lines)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph as a list of modules (first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return [*path[path.index(d) :], d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycle_in_sim():
    """Any cycle of imports inside sim/ fails, naming the modules around it."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_planted_cycle():
    """The checker is not vacuous: a cycle added to the real graph is found."""
    graph = import_graph()
    graph["sim.core.registry"] = graph["sim.core.registry"] | {"sim.model.model"}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_relative_imports_are_resolved():
    """``from . import x`` and ``from ..x import y`` name the right modules."""
    src = "from . import judged\nfrom ..core.state import EMPTY\nfrom .stages import LifeCycle\n"
    got = imports_of(SIM / "rules" / "classic.py", set(_modules()), text=src)
    assert got == {"sim.rules.judged", "sim.core.state", "sim.rules.stages"}


def test_every_module_is_in_a_room():
    """A new folder or top-level module gets a floor in FLOORS before it is used."""
    missing = {room_of(m) for m in _modules()} - set(FLOORS)
    assert not missing, f"rooms without a floor in FLOORS: {sorted(missing)}"


def test_imports_point_down():
    """No module imports a room on its own floor or above (function-level imports count)."""
    bad = arrows_up(import_graph())
    assert not bad, "imports that point up or sideways:\n" + "\n".join(bad)


def test_an_arrow_up_is_caught():
    """The checker is not vacuous: a planted upward import is reported."""
    graph = import_graph()
    graph["sim.core.state"] = graph["sim.core.state"] | {"sim.model.params"}
    assert "sim.core.state -> sim.model.params" in arrows_up(graph)


def test_at_most_eight_floors():
    """The house is at most eight floors high, and the floors are those the graph needs."""
    assert max(FLOORS.values()) + 1 <= 8
    rooms = room_graph()

    def height(r: str) -> int:
        return 1 + max((height(b) for b in rooms.get(r, {})), default=-1)

    assert max(height(r) for r in FLOORS) == max(FLOORS.values())


def test_core_imports_nothing_of_the_project():
    """The lowest layer imports nothing of sim outside itself."""
    assert set(room_graph().get("sim.core", {})) == set()


def test_registry_is_the_bottom():
    """The registry imports nothing of sim but the errors: everything can register into it."""
    mods = _modules()
    assert imports_of(mods["sim.core.registry"], set(mods)) <= {"sim.core.errors"}


@pytest.mark.parametrize(
    "module",
    [
        "sim.rules.actions",
        "sim.system.agents",
        "sim.system.metrics",
        "sim.rules.strategies",
        "sim.rules.strategies.strategy",
        "sim.rules",
        "sim.rules.judged",
        "sim.model.params",
    ],
)
def test_lower_layers_do_not_import_the_model(module):
    """Rules, strategies, actions, agents, metrics and the parameters are typed against a
    protocol, not the model class."""
    mods = _modules()
    assert "sim.model.model" not in imports_of(mods[module], set(mods))


def test_model_imports_the_builtins_explicitly():
    """The built-in rules are a written list, not a folder walked with pkgutil."""
    for m, path in _modules().items():
        assert "pkgutil" not in path.read_text() or m not in ("sim.rules", "sim.model.builtin"), m
    mods = _modules()
    assert "sim.model.builtin" in imports_of(mods["sim.model.model"], set(mods))
    listed = imports_of(mods["sim.model.builtin"], set(mods))
    registering = {
        m
        for m, path in mods.items()
        if m.startswith("sim.rules.") and "@register" in path.read_text()
    }
    assert registering <= listed, f"not imported by sim.model.builtin: {registering - listed}"


def test_the_drawing_in_the_docs_is_the_house():
    """docs/developing.md shows the house as the imports make it (``drawing()``)."""
    doc = (SIM.parent / "docs" / "developing.md").read_text()
    assert drawing() in doc, "docs/developing.md's drawing is stale; paste:\n" + drawing()
