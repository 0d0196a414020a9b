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
import math
import operator
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from sim.core.errors import UserError
from sim.inputs.safe_io import excerpt

#: Most boxes PRIM is asked for, one after another.
MAX_BOXES = 3
#: A box is kept only if it covers at least this share of the cases of interest.
MIN_COVERAGE = 0.1
#: Share of a dimension's cases PRIM peels at each step (EMA's default).
PEEL_ALPHA = 0.05
#: A restriction whose quasi-p-value is above this is dropped from the chosen box.
QP_MAX = 0.05

_TERM = re.compile(r"([A-Za-z_]\w*)\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]")
#: Placeholder names for ``outcome[policy]`` terms while the expression is parsed.
_PLACEHOLDER = "_np_term"

#: Longest expression read (characters): a case of interest is a line, not a program.
MAX_LENGTH = 1000
#: Deepest nesting of parentheses and operators.
MAX_DEPTH = 40
#: Largest number written in an expression (in absolute value).
MAX_NUMBER = 1e15
#: Exponents ``**`` may take: small whole numbers (a square, a cube).
EXPONENTS = range(1, 5)

#: What an expression may contain; every refusal ends with it.
GRAMMAR = (
    "allowed: outcomes (outcome, or outcome[policy] in a robustness sweep), numbers up to "
    "1e15, + - * /, ** with a whole exponent from 1 to 4, abs(...), comparisons "
    "< <= > >= == != (chains too) each reading an outcome, and, or, not, parentheses; the "
    "whole is a comparison or an and/or/not of comparisons"
)

_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_WORDS = {ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: None, ast.Invert: "not"}

NUMBER, TRUTH = "a number", "true or false"


class Case:
    """A parsed case-of-interest expression, checked against the outcomes and policies.

    The grammar (:data:`GRAMMAR`), in full::

        case       := disjunct ("or" disjunct)*
        disjunct   := conjunct ("and" conjunct)*
        conjunct   := "not" conjunct | "(" case ")" | comparison
        comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)+
        sum        := product (("+" | "-") product)*
        product    := factor (("*" | "/") factor)*
        factor     := ("-" | "+") factor | atom ("**" EXPONENT)?
        atom       := OUTCOME | OUTCOME "[" POLICY "]" | NUMBER | "abs(" sum ")" | "(" sum ")"

    with NUMBER a decimal literal of at most :data:`MAX_NUMBER`, EXPONENT a whole number
    in :data:`EXPONENTS`, and every comparison reading at least one outcome (one of
    numbers only is always true or always false). Arithmetic is done in 64-bit floats:
    no expression can build a huge integer (``9**9**9**9`` is refused as it is read), a
    division by zero gives an infinity or a NaN, and a world whose value is not finite
    is not a case. ``&``, ``|`` and ``~`` are refused with the word to write instead
    (``x < 1 & 1`` used to be read as a logical and).

    Args:
        text: The expression.
        outcomes: Outcomes the sweep recorded.
        policies: Policy labels of a robustness sweep, or ``None`` for a sampled sweep.

    Raises:
        UserError: Bad syntax, an unknown outcome or policy, a form not allowed; the
            message ends with what is allowed.

    """

    def __init__(self, text: str, outcomes: list[str], policies: list[str] | None) -> None:
        self.text = text
        self.terms: dict[str, tuple[str, str | None]] = {}
        if not isinstance(text, str) or not text.strip():
            self._refuse("give an expression, e.g. 'final_perf_mean < 0.5'")
        if len(text) > MAX_LENGTH:
            self._refuse(f"{len(text):,} characters; a case is at most {MAX_LENGTH:,}")
        if _PLACEHOLDER in text:
            self._refuse(f"{_PLACEHOLDER!r} is not an outcome")

        def name_term(m: re.Match[str]) -> str:
            outcome, policy = m.group(1), m.group(2)
            var = f"{_PLACEHOLDER}{len(self.terms)}"
            self.terms[var] = (outcome, policy)
            return var

        code = _TERM.sub(name_term, text)
        try:
            self.tree = ast.parse(code.strip(), mode="eval")
        except SyntaxError as exc:
            self._refuse(f"not a valid expression ({exc.msg})")
        except (RecursionError, MemoryError, ValueError):
            self._refuse("nested too deeply")
        kind, reads = self._check(self.tree.body, 0)
        if kind != TRUTH:
            self._refuse(
                "the expression gives numbers, not true or false; compare it with "
                "something, e.g. '... < 0'"
            )
        for outcome, policy in self.terms.values():
            where = f"--discover {excerpt(text)}"
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

    def _refuse(self, why: str) -> NoReturn:
        raise UserError(f"--discover {excerpt(self.text)}: {why}; {GRAMMAR}")

    def _check(self, node: ast.AST, depth: int) -> tuple[str, bool]:
        """The kind of ``node`` (:data:`NUMBER` or :data:`TRUTH`) and whether it reads an outcome.

        Refuses (:meth:`_refuse`) anything outside the grammar.
        """
        if depth > MAX_DEPTH:
            self._refuse(f"nested more than {MAX_DEPTH} levels deep")
        deeper = depth + 1
        if isinstance(node, ast.Constant):
            value = node.value
            if type(value) not in (int, float):  # bool is an int in Python: refused too
                self._refuse(f"{excerpt(value)} is not a number")
            small = abs(value) <= MAX_NUMBER if type(value) is int else math.isfinite(value)
            if not (small and abs(value) <= MAX_NUMBER):
                self._refuse(f"numbers are at most 1e15 in size (got {excerpt(value)})")
            return NUMBER, False
        if isinstance(node, ast.Name):
            if node.id == "abs":
                self._refuse("abs is a function: write abs(x)")
            if node.id not in self.terms:
                self.terms[node.id] = (node.id, None)
            return NUMBER, True
        if isinstance(node, ast.Call):
            if not (
                isinstance(node.func, ast.Name)
                and node.func.id == "abs"
                and len(node.args) == 1
                and not node.keywords
            ):
                self._refuse("the only function is abs(x)")
            return self._number(node.args[0], deeper, "abs(...)")
        if isinstance(node, ast.BinOp):
            if type(node.op) in _WORDS:
                self._refuse(self._word(node.op))
            if type(node.op) not in _ARITH:
                self._refuse(f"the operator {type(node.op).__name__} is not allowed")
            if isinstance(node.op, ast.Pow):
                exp = node.right
                if not (
                    isinstance(exp, ast.Constant)
                    and type(exp.value) is int
                    and exp.value in EXPONENTS
                ):
                    self._refuse(
                        "** takes a whole exponent written as a number from "
                        f"{EXPONENTS.start} to {EXPONENTS.stop - 1} (e.g. x ** 2)"
                    )
                return self._number(node.left, deeper, "**")
            _, left = self._number(node.left, deeper, "arithmetic")
            _, right = self._number(node.right, deeper, "arithmetic")
            return NUMBER, left or right
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Invert):
                self._refuse(self._word(node.op))
            if isinstance(node.op, ast.Not):
                return self._truth(node.operand, deeper, "not")
            return self._number(node.operand, deeper, "a sign")
        if isinstance(node, ast.Compare):
            reads = False
            for part in (node.left, *node.comparators):
                reads = self._number(part, deeper, "a comparison")[1] or reads
            if not reads:
                self._refuse(
                    "a comparison of numbers only is always true or always false; "
                    "compare an outcome"
                )
            return TRUTH, True
        if isinstance(node, ast.BoolOp):
            for part in node.values:
                self._truth(part, deeper, "and" if isinstance(node.op, ast.And) else "or")
            return TRUTH, True
        self._refuse(f"{type(node).__name__} is not allowed")

    def _number(self, node: ast.AST, depth: int, where: str) -> tuple[str, bool]:
        kind, reads = self._check(node, depth)
        if kind != NUMBER:
            self._refuse(f"{where} needs a number, not a comparison")
        return kind, reads

    def _truth(self, node: ast.AST, depth: int, where: str) -> tuple[str, bool]:
        kind, reads = self._check(node, depth)
        if kind != TRUTH:
            self._refuse(f"{where} needs comparisons on both sides, e.g. 'x < 1 and y > 2'")
        return kind, reads

    @staticmethod
    def _word(op: ast.AST) -> str:
        word = _WORDS.get(type(op))
        sign = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.Invert: "~"}[type(op)]
        return f"{sign} is not allowed" + (f"; write {word}" if word else "")

    def columns(self) -> list[tuple[str, str | None]]:
        """The ``(outcome, policy)`` terms the expression reads."""
        return list(self.terms.values())

    def evaluate(self, values: dict[tuple[str, str | None], np.ndarray]) -> np.ndarray:
        """The case, true or false, for each world.

        Args:
            values: Each term's values over the worlds.

        Returns:
            A boolean array; a world where a term is missing (NaN) or a value is not
            finite is not a case.

        """
        env = {var: np.asarray(values[term], dtype=float) for var, term in self.terms.items()}
        n = len(next(iter(env.values())))
        with np.errstate(all="ignore"):
            result = np.broadcast_to(np.asarray(self._eval(self.tree.body, env), bool), (n,))
        finite = np.ones(n, dtype=bool)
        for v in env.values():
            finite &= np.isfinite(v)
        return result & finite

    def _eval(self, node: ast.AST, env: dict[str, np.ndarray]) -> Any:
        # Only the forms _check let through; every number is a float64 array or scalar.
        if isinstance(node, ast.Constant):
            return np.float64(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp):
            return _ARITH[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, env)
            if isinstance(node.op, ast.Not):
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
                part = _CMPOPS[type(op)](left, right)
                out = part if out is None else np.logical_and(out, part)
                left = right
            return out
        if isinstance(node, ast.Call):
            return np.abs(self._eval(node.args[0], env))
        raise AssertionError(f"unchecked node {type(node).__name__}")  # _check refuses it


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
