"""Scenario discovery: in which worlds does a case of interest happen?

``nextpractice analyze DIR --discover "EXPRESSION"`` names a case of interest as an
expression over outcomes, world by world (Bryant and Lempert 2010, "Thinking inside
the box", Technological Forecasting and Social Change 77): in a robustness sweep an
outcome under a policy is written ``outcome[policy]`` (its mean over replications in
that world), e.g. ``final_perf_mean[next_practice] - final_perf_mean[top_down] < 0``;
in a sampled sweep (lhs, sobol, morris) a bare ``outcome`` is its mean per parameter
set. Expressions use numbers, ``+ - * / **``, comparisons (chained too), ``and``,
``or``, ``not``, parentheses and ``abs()``; nothing else is evaluated.

PRIM (Friedman and Fisher 1999) then peels the uncertainty space into boxes, with EMA
workbench's implementation (Kwakkel 2017, Environmental Modelling & Software 96,
``ema_workbench.analysis.prim``). From each box's peeling trajectory the point with the
best harmonic mean of coverage and density among those restricting at least one
uncertainty is chosen (a stated compromise; the whole trajectory is saved for the
analyst who prefers another). Its restrictions whose quasi-p-value exceeds
:data:`QP_MAX` are then dropped one at a time, weakest first (EMA's
``drop_restriction``; if all are weak the strongest is kept, flagged not significant),
and its limits are written with EMA's quasi-p-values. Up to
:data:`MAX_BOXES` boxes are found in turn, each on the cases the earlier ones left.
Extra-trees feature scores (``ema_workbench.analysis.feature_scoring``) rank the
uncertainties for the case.

Written beside the results: ``prim_boxes.csv``, ``prim_trajectory.csv``,
``prim_tradeoff.png`` (coverage against density, coloured by the number of restricted
dimensions), ``feature_scores.csv`` and ``feature_scores.png``.
"""

from __future__ import annotations

import ast
import operator
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import UserError

#: Most boxes PRIM is asked for, one after another.
MAX_BOXES = 3
#: A box is kept only if it covers at least this share of the cases of interest.
MIN_COVERAGE = 0.1
#: Share of a dimension's cases PRIM peels at each step (EMA's default).
PEEL_ALPHA = 0.05
#: A restriction whose quasi-p-value is above this is dropped from the chosen box.
QP_MAX = 0.05

_TERM = re.compile(r"([A-Za-z_]\w*)\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]")

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.BitAnd: np.logical_and,
    ast.BitOr: np.logical_or,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class Case:
    """A parsed case-of-interest expression, checked against the outcomes and policies.

    Args:
        text: The expression.
        outcomes: Outcomes the sweep recorded.
        policies: Policy labels of a robustness sweep, or ``None`` for a sampled sweep.

    Raises:
        UserError: Bad syntax, an unknown outcome or policy, a form not allowed.

    """

    def __init__(self, text: str, outcomes: list[str], policies: list[str] | None) -> None:
        self.text = text
        self.terms: dict[str, tuple[str, str | None]] = {}

        def name_term(m: re.Match[str]) -> str:
            outcome, policy = m.group(1), m.group(2)
            var = f"_v{len(self.terms)}"
            self.terms[var] = (outcome, policy)
            return var

        code = _TERM.sub(name_term, text)
        try:
            self.tree = ast.parse(code, mode="eval")
        except SyntaxError as exc:
            raise UserError(f"--discover {text!r}: not a valid expression ({exc.msg})") from None
        self._check(self.tree.body)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and node.id not in self.terms and node.id != "abs":
                self.terms[node.id] = (node.id, None)
        for outcome, policy in self.terms.values():
            where = f"--discover {text!r}"
            if outcome not in outcomes:
                raise UserError(
                    f"{where}: unknown outcome {outcome!r}. Recorded outcomes: "
                    f"{', '.join(outcomes)}"
                )
            if policies is not None and policy is None:
                raise UserError(
                    f"{where}: say which policy's {outcome} is meant, e.g. "
                    f"{outcome}[{policies[0]}]; policies: {', '.join(policies)}"
                )
            if policies is not None and policy not in policies:
                raise UserError(
                    f"{where}: unknown policy {policy!r}; policies: {', '.join(policies)}"
                )
            if policies is None and policy is not None:
                raise UserError(
                    f"{where}: {outcome}[{policy}]: this sweep has no policies; "
                    f"write {outcome} alone"
                )

    def _check(self, node: ast.AST) -> None:
        allowed = (
            ast.BinOp,
            ast.UnaryOp,
            ast.Compare,
            ast.BoolOp,
            ast.Name,
            ast.Constant,
            ast.Call,
            ast.Load,
            ast.And,
            ast.Or,
            ast.Not,
            ast.USub,
            ast.UAdd,
            ast.Invert,
            *_BINOPS,
            *_CMPOPS,
        )
        for sub in ast.walk(node):
            if not isinstance(sub, allowed):
                raise UserError(
                    f"--discover {self.text!r}: {type(sub).__name__} is not "
                    "allowed; use outcomes, numbers, arithmetic, comparisons, "
                    "and/or/not and abs()"
                )
            if isinstance(sub, ast.Call) and not (
                isinstance(sub.func, ast.Name)
                and sub.func.id == "abs"
                and len(sub.args) == 1
                and not sub.keywords
            ):
                raise UserError(f"--discover {self.text!r}: the only function is abs(x)")
            if isinstance(sub, ast.Constant) and not isinstance(sub.value, int | float):
                raise UserError(f"--discover {self.text!r}: {sub.value!r} is not a number")

    def columns(self) -> list[tuple[str, str | None]]:
        """The ``(outcome, policy)`` terms the expression reads."""
        return list(self.terms.values())

    def evaluate(self, values: dict[tuple[str, str | None], np.ndarray]) -> np.ndarray:
        """The case, true or false, for each world.

        Args:
            values: Each term's values over the worlds.

        Returns:
            A boolean array; a world where a term is missing (NaN) is not a case.

        """
        env = {var: np.asarray(values[term], dtype=float) for var, term in self.terms.items()}
        result = np.asarray(self._eval(self.tree.body, env))
        if result.dtype != bool:
            raise UserError(
                f"--discover {self.text!r}: the expression gives numbers, not true "
                "or false; compare it with something, e.g. '... < 0'"
            )
        finite = np.ones(result.shape, dtype=bool)
        for v in env.values():
            finite &= np.isfinite(v)
        return result & finite

    def _eval(self, node: ast.AST, env: dict[str, np.ndarray]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, env)
            if isinstance(node.op, ast.Not | ast.Invert):
                return np.logical_not(v)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BoolOp):
            parts = [self._eval(v, env) for v in node.values]
            fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = parts[0]
            for p in parts[1:]:
                out = fn(out, p)
            return out
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env)
            out = None
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._eval(right_node, env)
                with np.errstate(invalid="ignore"):
                    part = _CMPOPS[type(op)](left, right)
                out = part if out is None else np.logical_and(out, part)
                left = right
            return out
        if isinstance(node, ast.Call):
            return np.abs(self._eval(node.args[0], env))
        raise UserError(f"--discover {self.text!r}: cannot evaluate {type(node).__name__}")


def _import_ema() -> tuple[Any, Any]:
    """EMA workbench's prim and feature_scoring, imported on first use (it is heavy)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "ipyparallel not installed"
            from ema_workbench.analysis import feature_scoring, prim
    except ImportError as exc:
        raise UserError(
            f"--discover needs ema_workbench ({exc}); install nextpractice's "
            "dependencies again (pip install -e .)"
        ) from None
    return prim, feature_scoring


def prim_boxes(
    x: pd.DataFrame, y: np.ndarray, max_boxes: int = MAX_BOXES, peel_alpha: float = PEEL_ALPHA
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Find up to ``max_boxes`` PRIM boxes for the cases ``y`` over the worlds ``x``.

    Args:
        x: One row per world, one numeric column per uncertainty.
        y: True for the worlds that are cases of interest.
        max_boxes: Most boxes to find, each on the cases the earlier ones left.
        peel_alpha: Share peeled per step.

    Returns:
        ``(boxes, trajectory)``: per box and restricted uncertainty its lower and upper
        limit, quasi-p-values, and the box's coverage, density, mass and trajectory
        point; and every box's whole peeling trajectory (``box``, ``id``, coverage,
        density, mass, res_dim, ``chosen``).

    """
    prim, _ = _import_ema()
    y = np.asarray(y, dtype=bool)
    boxes, trajectories = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y, peel_alpha=peel_alpha)
        for k in range(max_boxes):
            box = finder.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory
            f1 = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"])
            f1 = f1.where(traj["res_dim"] > 0, -1.0)  # a box must restrict something
            box.select(int(f1.fillna(-1.0).to_numpy().argmax()))
            limits = _drop_weak_restrictions(box)
            chosen = int(box._cur_box)  # EMA keeps no public name for the selected point
            stats = box.peeling_trajectory.iloc[chosen]
            traj = box.peeling_trajectory.copy()
            traj.insert(0, "box", k + 1)
            traj["chosen"] = traj["id"] == chosen
            if float(box.coverage) < MIN_COVERAGE and k > 0:
                break
            trajectories.append(traj)
            for name, lim in limits.iterrows():
                boxes.append(
                    {
                        "box": k + 1,
                        "uncertainty": name,
                        "lower": lim["lower"],
                        "upper": lim["upper"],
                        "range_low": float(x[name].min()),
                        "range_high": float(x[name].max()),
                        "qp_lower": lim["qp_lower"],
                        "qp_upper": lim["qp_upper"],
                        "coverage": float(stats["coverage"]),
                        "density": float(stats["density"]),
                        "mass": float(stats["mass"]),
                        "res_dim": int(stats["res_dim"]),
                        "trajectory_id": chosen,
                        "significant": bool(
                            min(_nan_big(lim["qp_lower"]), _nan_big(lim["qp_upper"])) <= QP_MAX
                        ),
                    }
                )
            if not len(limits):
                break
    columns = [
        "box",
        "uncertainty",
        "lower",
        "upper",
        "range_low",
        "range_high",
        "qp_lower",
        "qp_upper",
        "coverage",
        "density",
        "mass",
        "res_dim",
        "trajectory_id",
        "significant",
    ]
    traj_all = pd.concat(trajectories, ignore_index=True) if trajectories else pd.DataFrame()
    return pd.DataFrame(boxes, columns=columns), traj_all


def _nan_big(v: float) -> float:
    return 1.0 if v is None or not np.isfinite(v) else float(v)


def _drop_weak_restrictions(box: Any) -> pd.DataFrame:
    """Drop the chosen box's restrictions whose quasi-p-value exceeds :data:`QP_MAX`.

    Bryant and Lempert (2010) keep a box to the few uncertainties that matter; EMA's
    ``drop_restriction`` adds the box without that restriction to the trajectory and
    selects it. When every restriction is weak, the strongest is kept alone (and shows
    as not significant). Returns the final box's limits with their quasi-p-values.
    """
    while True:
        limits = box.inspect(box._cur_box, style="data")[0][1].copy()
        limits.columns = ["lower", "upper", "qp_lower", "qp_upper"]
        qp = limits[["qp_lower", "qp_upper"]].min(axis=1, skipna=True)
        weak = qp[(qp > QP_MAX) | qp.isna()]
        if weak.empty or len(limits) == 1:
            return limits
        box.drop_restriction(str(weak.sort_values().index[-1]))


def feature_scores(x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.Series:
    """Extra-trees importance of each uncertainty for the case (EMA's feature_scoring)."""
    _, fs = _import_ema()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _ = fs.get_ex_feature_scores(
            x,
            np.asarray(y, dtype=int),
            mode=fs.RuleInductionType.CLASSIFICATION,
            random_state=seed % 2**32,
        )
    return scores.iloc[:, 0].sort_values(ascending=False)


def discover(
    case: Case,
    x: pd.DataFrame,
    values: dict[tuple[str, str | None], np.ndarray],
    out: Path,
    seed: int,
    notes: list[str],
) -> tuple[list[str], dict[str, Any]]:
    """Evaluate the case, then write PRIM boxes, trajectory, trade-off chart and scores.

    Args:
        case: The parsed case of interest.
        x: The worlds' uncertainties, one row per world.
        values: Each term of the case over the same worlds.
        out: Directory to write into.
        seed: Seed of the extra-trees feature scoring.
        notes: Collects what was left out, and why.

    Returns:
        ``(files written, summary)``: the summary gives the expression, the number of
        worlds and of cases, and each box's limits, coverage and density.

    """
    y = case.evaluate(values)
    n, k = len(y), int(y.sum())
    summary: dict[str, Any] = {"expression": case.text, "n_worlds": n, "n_cases": k}
    if k == 0 or k == n:
        notes.append(
            f"discover: the case holds in {k} of {n} worlds, so there is nothing to "
            "tell apart; no boxes (try another expression or wider ranges)"
        )
        return [], summary
    x = x.astype(float)
    boxes, trajectory = prim_boxes(x, y)
    boxes.to_csv(out / "prim_boxes.csv", index=False)
    trajectory.to_csv(out / "prim_trajectory.csv", index=False)
    scores = feature_scores(x, y, seed)
    scores.rename_axis("uncertainty").rename("score").to_frame().to_csv(out / "feature_scores.csv")
    summary["boxes"] = [
        {
            "box": int(b),
            "coverage": float(g["coverage"].iloc[0]),
            "density": float(g["density"].iloc[0]),
            "mass": float(g["mass"].iloc[0]),
            "significant": bool(g["significant"].all()),
            "limits": {r.uncertainty: [float(r.lower), float(r.upper)] for r in g.itertuples()},
        }
        for b, g in boxes.groupby("box")
    ]
    summary["top_features"] = {str(k): float(v) for k, v in scores.head(5).items()}
    files = [
        "prim_boxes.csv",
        "prim_trajectory.csv",
        "feature_scores.csv",
        _tradeoff_chart(out, trajectory, case.text, k / n),
        _scores_chart(out, scores),
    ]
    return files, summary


def _tradeoff_chart(out: Path, trajectory: pd.DataFrame, text: str, base: float) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    first = trajectory[trajectory["box"] == 1]
    pts = ax.scatter(first["coverage"], first["density"], c=first["res_dim"], cmap="viridis", s=18)
    fig.colorbar(pts, ax=ax, label="restricted dimensions")
    for _, row in trajectory[trajectory["chosen"]].iterrows():
        ax.scatter(
            [row["coverage"]], [row["density"]], s=90, facecolors="none", edgecolors="tab:red"
        )
        ax.annotate(
            f"box {int(row['box'])}",
            (row["coverage"], row["density"]),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=8,
        )
    ax.axhline(base, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(
        f"PRIM peeling trajectory (box 1); dotted: base rate {base:.2f}\n{text}", fontsize=8
    )
    fig.savefig(out / "prim_tradeoff.png", dpi=120)
    return "prim_tradeoff.png"


def _scores_chart(out: Path, scores: pd.Series) -> str:
    from matplotlib.figure import Figure

    top = scores.head(15)[::-1]
    fig = Figure(figsize=(6.4, 0.6 + 0.25 * len(top)), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(list(top.index), top.to_numpy())
    ax.set_xlabel("extra-trees feature score")
    fig.savefig(out / "feature_scores.png", dpi=120)
    return "feature_scores.png"
