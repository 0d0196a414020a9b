"""Rewrite the stored baseline summary (tests/baseline/next_practice.json).

Run only when a change of behaviour is intended, and say why in the commit:
    .venv/bin/python scripts/update_baseline.py
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_baseline import baseline_summary  # noqa: E402

out = ROOT / "tests" / "baseline" / "next_practice.json"
out.write_text(json.dumps(baseline_summary(), indent=1, sort_keys=True) + "\n")
print(f"wrote {out}")
