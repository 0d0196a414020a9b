"""Costs and budgets: what the centre's and the authorities' actions cost, and who pays.

Every action a strategy or lever takes has a cost in one unit, **GBP thousand**
(budgets and yearly costs in GBP thousand a year; costs per school are per school in
the model system, so they scale with ``n_schools``). Two kinds of payer:

- the **centre** (the national budget, ``budget_centre``, e.g. the National
  Strategies' and the Innovation Unit's programmes): field trials (per site-month,
  committed for the whole trial when it starts), brokered ties (per tie) and
  administering and inspecting mandates (per school a mandate reaches, once) and
  running them (per school under a mandate, once a year);
- each **authority** (``budget_authority`` times its budget index, which a budget cut
  lowers, seed 001): animating or administering its schools' networks (per school,
  times the facilitation its stance gives), capacity investment (per school at
  full capacity-building lever), both paid in :func:`fund_authorities`, and
  executive headship support (``cost_exec_support`` per school taken on by an
  executive head, paid in the ``lead`` rule,
  :meth:`sim.rules.executive_heads.SystemLeadership.pay_for_support`).

Each payer's allowance accrues every step (its yearly budget over twelve months,
times ``dur_step``); unspent money carries forward. Before an action, the payer is
asked for its full cost; when less is left, the action is scaled down to what is
left (fewer trial sites, fewer brokered ties, a mandate reaching fewer schools,
less facilitation, less capacity investment, less support within federations),
never overspent, and the shortfall (the cost of what was not done) is recorded.
The practices' own running costs (``cost_mean`` as a share of a school's
discretionary budget, ``school_budget``) are recorded as the schools' spending;
schools already weigh them when they adopt and review (``rel_cost``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.jit import jit
from sim.core.state import ABSENT

if TYPE_CHECKING:
    from sim.core.registry import ModelLike as NextPracticeModel  # the bottom layer's protocol

#: The one unit of every cost and budget.
UNIT = "GBP thousand"
#: Payers, in the order of the spend outcomes.
PAYERS = ("centre", "authorities", "schools")


def share_funded(cost: float, left: float) -> float:
    """The share of ``cost`` a payer with ``left`` unspent can pay: all of it, or what is left."""
    return 1.0 if cost <= left else (left / cost if cost > 0 else 1.0)


class Ledger:
    """Allowances, spending and shortfall of the centre and each authority.

    Attributes:
        allowance_centre: Money the centre has had so far (£ thousand).
        spent_centre: Money the centre has spent so far.
        short_centre: Cost of the centre's actions not done for want of money.
        allowance_la, spent_la, short_la: The same for each authority.
        spent_schools: The schools' running costs of their practices so far.
    """

    def __init__(self, n_authorities: int) -> None:
        self.allowance_centre = 0.0
        self.spent_centre = 0.0
        self.short_centre = 0.0
        self.allowance_la = np.zeros(n_authorities)
        self.spent_la = np.zeros(n_authorities)
        self.short_la = np.zeros(n_authorities)
        self.spent_schools = 0.0
        #: Share of this year's running cost of the mandates the centre could pay
        #: (:meth:`sim.rules.strategies.mandate.Mandate.pay_running_cost`).
        self.share_mandate_year = 1.0

    def accrue(self, model: NextPracticeModel) -> None:
        """Add this step's allowance: yearly budget per school times schools, over 12."""
        p, s = model.p, model.schools
        months = p.dur_step / 12.0
        self.allowance_centre += p.budget_centre * s.n * months
        _accrue_authorities(  # one compiled pass (numpy form: _accrue_authorities_numpy)
            self.allowance_la,
            s.authority[: s.n],
            float(p.budget_authority),
            model.authorities.budget,
            months,
        )

    def centre(self, cost: float) -> float:
        """Ask the centre for ``cost``; charge what it can pay; return the share funded."""
        share = share_funded(cost, max(0.0, self.allowance_centre - self.spent_centre))
        self.spent_centre += cost * share
        self.short_centre += cost * (1.0 - share)
        return share

    def authorities(self, cost: np.ndarray, asked: np.ndarray | None = None) -> np.ndarray:
        """Ask every authority (or those ``asked``) for its ``cost`` at once; return the shares.

        Each authority pays from its own money only, so this is :func:`share_funded`
        and the same charge as :meth:`centre`, applied to every authority at once, to
        the last bit (one pass over England's ~150, not a Python call each;
        ``tests/test_costs.py`` checks it against the authorities asked one by one).
        Authorities not asked get share 1 and pay nothing.
        """
        cost = np.asarray(cost, np.float64)
        left = np.maximum(0.0, self.allowance_la - self.spent_la)
        share = np.ones(len(cost))
        short = cost > left  # then cost > 0, as left >= 0
        if asked is not None:
            short &= asked
        # The same ufuncs on the same elements as ``share[short] = left[short] / cost[short]``
        # and ``spent[asked] += (cost * share)[asked]``, written through ``where`` masks: no
        # fancy-indexed copies (a dozen small arrays a call, three calls a step).
        np.divide(left, cost, out=share, where=short)
        if asked is None:
            self.spent_la += cost * share
            self.short_la += cost * (1.0 - share)
        else:
            np.add(self.spent_la, cost * share, out=self.spent_la, where=asked)
            np.add(self.short_la, cost * (1.0 - share), out=self.short_la, where=asked)
        return share

    def centre_units(self, unit_cost: float, n: int) -> int:
        """How many of ``n`` units the centre can pay for in full; charge them."""
        left = max(0.0, self.allowance_centre - self.spent_centre)
        # left // unit_cost overflows for a tiny unit cost: then every unit is affordable.
        k = n if unit_cost <= 0 or left >= n * unit_cost else min(n, int(left // unit_cost))
        self.spent_centre += k * unit_cost
        self.short_centre += (n - k) * unit_cost
        return k

    def metrics(
        self, spent_la: float | None = None, short_la: float | None = None
    ) -> dict[str, float]:
        """Cumulative spend by payer and shortfall, in GBP thousand (per-step metrics).

        ``spent_la`` and ``short_la``: the sums of :attr:`spent_la` and :attr:`short_la`
        in numpy's order when already taken (the record takes them in its compiled call).
        """
        la = float(self.spent_la.sum()) if spent_la is None else spent_la
        short = float(self.short_la.sum()) if short_la is None else short_la
        return {
            "spend_centre": self.spent_centre,
            "spend_authorities": la,
            "spend_public": self.spent_centre + la,
            "spend_schools": self.spent_schools,
            "shortfall": self.short_centre + short,
        }


#: Outcomes of a run's money beside the final spend metrics, with their definitions.
COST_DEFINITIONS = {
    "gain_points": "mean performance at the end minus at the start, in percentage points",
    "spend_per_point": "final_spend_public (the centre and authorities) per percentage point "
    "of gain_points (GBP thousand; nan when nothing was gained)",
    "points_per_million": "gain_points per GBP million of final_spend_public, the centre's "
    "and authorities' spending (nan when nothing was spent)",
    "spend_per_point_all": "all public spending (the centre, authorities and the schools' "
    "running costs of their practices, also public money) per percentage point of "
    "gain_points (GBP thousand; nan when nothing was gained)",
    "points_per_million_all": "gain_points per GBP million of all public spending, the "
    "schools' own included (nan when nothing was spent)",
}


#: Spend in the units a ministry budgets in, per payer (:data:`PAYERS`, and ``public``:
#: centre and authorities): GBP million a year for the whole system, and GBP a year per
#: school, each the mean over the years run.
_WHO = {
    "centre": "the centre's spend (trials, brokering, mandates)",
    "authorities": "the authorities' spend, all together (facilitation, capacity, support)",
    "public": "public spend (centre and authorities)",
    "schools": "the schools' running costs of the practices they run",
}
YEARLY_DEFINITIONS = {
    **{
        f"spend_year_{p}": f"{who}, a year: mean over the years run (GBP million a year, "
        "the whole system)"
        for p, who in _WHO.items()
    },
    **{
        f"spend_school_year_{p}": f"{who}, a year per school: mean over the years run (GBP "
        "a year per school)"
        for p, who in _WHO.items()
    },
}


def yearly_outcomes(spend: dict[str, float], years: float, n_schools: int) -> dict[str, float]:
    """Spend a year and per school a year (:data:`YEARLY_DEFINITIONS`) from cumulative spend.

    Args:
        spend: Payer (``centre``, ``authorities``, ``public``, ``schools``) to its
            cumulative spend at the end of the run, in GBP thousand.
        years: Years run.
        n_schools: Schools in the system.

    Returns:
        NaN for every outcome when no time passed.
    """
    out = {}
    for payer, total in spend.items():
        ok = years > 0 and n_schools > 0
        out[f"spend_year_{payer}"] = total / 1000.0 / years if ok else float("nan")
        out[f"spend_school_year_{payer}"] = (
            total * 1000.0 / years / n_schools if ok else float("nan")
        )
    return {k: out[k] for k in YEARLY_DEFINITIONS}


def cost_outcomes(
    perf_first: float, perf_last: float, spend_public: float, spend_schools: float = float("nan")
) -> dict[str, float]:
    """Gain and value for money of a finished run, two ways (see :data:`COST_DEFINITIONS`).

    The centre's and authorities' spending (``spend_public``), and all public
    spending, the schools' running costs of their practices (``spend_schools``)
    included: NaN for the second when the schools' spending is not known.
    """
    gain = 100.0 * (perf_last - perf_first)
    nan = float("nan")
    spend_all = spend_public + spend_schools
    millions, millions_all = spend_public / 1000.0, spend_all / 1000.0  # GBP k -> GBP m
    return {
        "gain_points": gain,
        "spend_per_point": spend_public / gain if gain > 0 else nan,
        # Tested against the millions, not the thousands: a spend of a few GBP 1e-324 k
        # is above 0 but its millions are not.
        "points_per_million": gain / millions if millions > 0 else nan,
        "spend_per_point_all": spend_all / gain if gain > 0 else nan,
        "points_per_million_all": gain / millions_all if millions_all > 0 else nan,
    }


def fund_authorities(model: NextPracticeModel) -> None:
    """Each authority pays for facilitation and capacity investment, scaled to its money.

    Called after the strategy sets the stance: facilitation an authority gives under an
    administering or animating stance costs ``cost_facilitate`` per school a year at
    facilitation 1; capacity investment costs ``cost_capacity`` per school a year at a
    full lever (times the budget index). An authority short of money gives less
    facilitation, and its schools get ``capacity_funded`` of the investment.

    Under ``compiled`` (the run setting) it is one pass of :func:`fund_authorities_compiled`
    over the authorities, the same charges to the last bit, unless the ledger answers
    :meth:`Ledger.authorities` its own way (then it is asked, as here without the setting).
    """
    p, s, la, led = model.p, model.schools, model.authorities, model.ledger
    months = p.dur_step / 12.0
    if getattr(p, "compiled", True) and type(led).authorities is Ledger.authorities:
        model.capacity_funded = fund_authorities_compiled(
            s.authority[: s.n],
            la.stance,
            la.facilitation,
            la.budget,
            led.allowance_la,
            led.spent_la,
            led.short_la,
            float(p.cost_facilitate),
            float(p.cost_capacity * p.lever_capacity),
            months,
        )
        return
    per_la = np.bincount(s.authority[: s.n], minlength=len(la.budget))
    # Facilitation first, then investment, as each authority would ask in turn.
    la.facilitation *= led.authorities(
        p.cost_facilitate * la.facilitation * per_la * months, asked=la.stance != ABSENT
    )
    model.capacity_funded = led.authorities(
        p.cost_capacity * p.lever_capacity * la.budget * per_la * months
    )


@jit
def fund_authorities_compiled(
    authority, stance, facilitation, budget, allowance, spent, short, cost_fac, cost_cap, months
):
    """:func:`fund_authorities`' numpy form (two :meth:`Ledger.authorities` asks), in one pass.

    ``authority``: each school's authority; ``cost_cap``: ``cost_capacity *
    lever_capacity``. Each authority pays from its own money only, so it asks for
    facilitation (unless its stance is absent) and then for capacity investment in
    turn, and the same arithmetic as the numpy form's: its schools counted
    (``np.bincount``), each cost multiplied left to right, ``np.maximum(0.0, allowance -
    spent)`` left (0.0 where the difference is below 0: -0.0 and NaN kept), the share ``left /
    cost`` when the cost exceeds it, and the charges added. Scales ``facilitation`` and
    charges ``spent`` and ``short`` in place; returns each authority's share of its
    capacity investment funded (``capacity_funded``).
    """
    n_la = len(budget)
    per_la = np.zeros(n_la, np.int64)
    for i in range(len(authority)):
        per_la[authority[i]] += 1
    funded = np.empty(n_la)
    for a in range(n_la):
        if stance[a] != ABSENT:
            cost = cost_fac * facilitation[a] * per_la[a] * months
            facilitation[a] = facilitation[a] * _ask(a, cost, allowance, spent, short)
        funded[a] = _ask(a, cost_cap * budget[a] * per_la[a] * months, allowance, spent, short)
    return funded


@jit(inline="always")
def _ask(a, cost, allowance, spent, short):
    """Authority ``a`` is asked for ``cost`` (:meth:`Ledger.authorities` for one): the share.

    ``np.maximum(0.0, allowance - spent)`` left (0.0 where the difference is below
    0: -0.0 and NaN kept), the share ``left / cost`` when the cost exceeds it, else
    1; charges ``spent`` and ``short`` in place.
    """
    d = allowance[a] - spent[a]
    left = 0.0 if d < 0.0 else d
    share = left / cost if cost > left else 1.0
    spent[a] = spent[a] + cost * share
    short[a] = short[a] + cost * (1.0 - share)
    return share


def charge_schools(model: NextPracticeModel) -> None:
    """Record the schools' running costs of the practices they run this step.

    In numpy, not compiled: a compiled pass in numpy's summation order gained a
    microsecond at 1,000 schools and cost twice numpy's time at England's size
    (344 against 160 us a step), where numpy's gather and pairwise sum are vectorised.
    """
    p, s, pr = model.p, model.schools, model.practices
    # Each slot's running cost: an empty slot (EMPTY, -1) reads the 0 appended last.
    costs = np.append(pr.cost[: pr.n], 0.0)
    cost = costs[s.slot_p[: s.n]].sum()
    model.ledger.spent_schools += float(cost) * p.school_budget * p.dur_step / 12.0


def _accrue_authorities_numpy(
    allowance: np.ndarray, authority: np.ndarray, per_school: float, budget: np.ndarray, months
) -> None:
    """Add each authority's allowance for the step: per school, times its schools and budget.

    The numpy form of :func:`_accrue_authorities`.
    """
    per_la = np.bincount(authority, minlength=len(allowance))
    allowance += per_school * per_la * budget * months


@jit
def _accrue_authorities(allowance, authority, per_school, budget, months):
    """:func:`_accrue_authorities_numpy` in one compiled call, the same numbers.

    Counts each authority's schools, then per authority the same products in the same
    order as numpy's whole-array ones: ``per_school * count``, times its budget, times
    ``months``, added to its allowance.
    """
    count = np.zeros(len(allowance), np.int64)
    for a in authority:
        if a < 0 or a >= len(allowance):
            raise IndexError("a school's authority is outside the ledger's authorities")
        count[a] += 1
    for a in range(len(allowance)):
        allowance[a] += per_school * count[a] * budget[a] * months
