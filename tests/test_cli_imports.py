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
