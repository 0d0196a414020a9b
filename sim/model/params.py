"""The shared parameters: structure, levers, run settings, the initial system.

A parameter lives here only if several parts of the model read it, or it is a
lever, the structure, a run setting or part of the initial system. Every other
parameter is declared beside the one mechanism that reads it, in that
mechanism's file (:class:`sim.core.registry.Param`, in the class's ``params``),
under the key ``<mechanism>.<parameter>``: ``judged.threshold_adopt`` is in
``sim/rules/judged.py``, ``field_trials.n_trials`` in
``sim/rules/strategies/field_trials.py``. Their values in force are in
:attr:`Params.declared`, and every listing helper here (:func:`field_info`,
:func:`parameter_table`, :func:`live_names`, :func:`factors`,
:func:`declared_fields`) includes them; ``nextpractice params`` lists every key
once with its owner. This module holds the schema only: it imports the
registry, never a rule (the built-ins are registered lazily, when a name is
checked).

Each parameter is declared once, with its default, its allowed range, its unit,
what it means and, where it comes from the literature or data, its reference.
Scenario files (``scenarios/*.yaml``) hold overrides over these defaults;
sweeps (``experiments/*.yaml``) take their factors and ranges from the
``sweep`` entries, so no range is typed twice. Each field's
``json_schema_extra`` carries:

* ``unit``: the unit of the value (``1`` for dimensionless, ``logit`` for
  effects on the log-odds of a pupil reaching the expected standard).
* ``kind``: ``lever`` (a policy choice, EMA workbench's L), ``uncertainty``
  (a fact about the world nobody controls, X), ``structure`` (the size and
  shape of the system) or ``setting`` (how the run is done).
* ``ref``: the source of the mechanism or number, where there is one.
* ``live``: a trainer may change it while a run is in progress
  (:meth:`sim.model.model.NextPracticeModel.set_control`); it acts from the next step.
* ``sweep``: the range used by sensitivity analysis, when the field is a factor.
  Every uncertainty declares one (a plausible range for exploring worlds), with
  ``sweep_ref``: the source of the range or a one-line reason for it.

Naming follows one vocabulary: ``p_`` probabilities per month, ``n_`` counts,
``share_`` fractions, ``dur_`` durations in months, ``rel_`` multipliers,
``init_`` initial values, ``rate_`` monthly rates of change, ``sd_`` standard
deviations, ``lever_`` the four coherence levers of Fullan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from sim.core.registry import (
    DEFAULTS,
    NETWORKS,
    RULES,
    STEP_ORDER,
    STRATEGIES,
    Param,
    builtin_keys,
    declared_params,
    form_hint,
    key_hint,
    keys_read,
)
from sim.core.sources import (  # the sources cited, written once (the rules cite them too)
    DFES_2007,
    FULLAN_2006,
    GIBBONS_2007,
    JACKSON_2011,
    KS2,
    NEXT_PRACTICE,
)
from sim.model.plugins import import_plugins as _import_plugins

#: Budgets a scenario may give as a total a year for the whole system instead of per
#: school (``budget_centre_total: 5.0``): the key, the per-school parameter it sets, and
#: its declaration. A total is turned into the per-school value (GBP thousand per school
#: a year: the total times 1000 over ``n_schools``) before anything else reads it, so a
#: run given the total is the run given that per-school value, to the last byte; giving
#: both in one place is refused.
BUDGET_TOTALS: dict[str, dict[str, Any]] = {
    "budget_centre_total": {
        "sets": "budget_centre",
        "unit": "GBP m a year",
        "meaning": "The centre's yearly budget for the whole system, instead of "
        "budget_centre per school: budget_centre = total x 1000 / n_schools.",
    },
    "budget_authority_total": {
        "sets": "budget_authority",
        "unit": "GBP m a year",
        "meaning": "All authorities' yearly budgets together, instead of budget_authority "
        "per school: budget_authority = total x 1000 / n_schools.",
    },
}


def per_school(total: float, n_schools: int) -> float:
    """A budget of ``total`` GBP million a year over ``n_schools``, in GBP thousand per school."""
    return total * 1000.0 / n_schools


def par(
    default: Any,
    *,
    unit: str,
    meaning: str,
    kind: str,
    lo: float | None = None,
    hi: float | None = None,
    ref: str | None = None,
    live: bool = False,
    sweep: tuple[float, float] | None = None,
    sweep_ref: str | None = None,
) -> Any:
    """Declare one parameter: default, bounds and the metadata described above."""
    extra: dict[str, Any] = {"unit": unit, "kind": kind, "ref": ref, "live": live}
    if sweep is not None:
        extra["sweep"] = list(sweep)
    if sweep_ref is not None:
        extra["sweep_ref"] = sweep_ref
    return Field(default, ge=lo, le=hi, description=meaning, json_schema_extra=extra)


class Params(BaseModel):
    """All parameters of a run. Build one with :func:`sim.model.scenario.load_scenario`."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    plugins: tuple[str, ...] = par(
        (),
        unit="module names",
        kind="setting",
        meaning="Modules imported before the model is built, so the rules, strategies and "
        "networks they register can be named here; they travel with the parameters "
        "to every worker process.",
    )

    # ----------------------------------------------------------------- strategy and levers
    strategy: str = par(
        "next_practice",
        unit="name",
        kind="lever",
        live=True,
        ref=GIBBONS_2007,
        meaning="How the centre acts: a registered strategy (top_down, bottom_up, next_practice).",
    )
    tightness: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="lever",
        live=True,
        sweep=(0, 1),
        ref=FULLAN_2006,
        meaning="Tight-loose dial: 0 loose, 1 tight. Sets mandate pressure and crowds out "
        "creative space (time and permission to experiment).",
    )
    lever_agenda: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="lever",
        live=True,
        sweep=(0, 1),
        ref=FULLAN_2006,
        meaning="Coherence lever 1, a national agenda as rallying point: how strongly schools "
        "favour practices in the agenda's domain when they judge and invent.",
    )
    lever_evidence: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="lever",
        live=True,
        sweep=(0, 1),
        ref=FULLAN_2006,
        meaning="Coherence lever 2, evidence-based decision-making: weight heads give published "
        "evidence, and how much sharper their own read of a practice in use becomes.",
    )
    lever_capacity: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="lever",
        live=True,
        sweep=(0, 1),
        ref=FULLAN_2006,
        meaning="Coherence lever 3, capacity building: the authorities' investment in collective "
        "capacity, as a share of the most they could do.",
    )
    lever_engagement: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="lever",
        live=True,
        sweep=(0, 1),
        ref=FULLAN_2006,
        meaning="Coherence lever 4, enlarging the sphere of engagement: how readily new ties "
        "form, and how many of them cross authorities.",
    )

    # ----------------------------------------------------------------- run settings
    n_steps: int = par(
        120, lo=1, hi=6000, unit="steps", kind="setting", meaning="Number of steps in a run."
    )
    dur_step: float = par(
        1.0,
        lo=0.25,
        hi=12,
        unit="months",
        kind="setting",
        meaning="Length of one step. All rates below are per month and are "
        "converted to per-step probabilities.",
    )
    start_year: float = par(
        1998.0,
        lo=1900,
        hi=2100,
        unit="year",
        kind="setting",
        ref=KS2,
        meaning="Calendar year at step 0 (the National Literacy Strategy "
        "started in September 1998).",
    )
    network: str = par(
        "school_system",
        unit="name",
        kind="setting",
        meaning="Registered structure generator that builds schools and ties.",
    )
    metrics: Literal["full", "adoption"] = par(
        "full",
        unit="name",
        kind="setting",
        meaning="Metrics recorded each step: 'full', every column of "
        "sim.system.metrics.DEFINITIONS; "
        "'adoption', the step, year and adoption columns only (sim.system.metrics.SETS), for "
        "the reduced diffusion modes, where nothing else moves and recording thirty "
        "columns would cost more than the rule.",
    )
    rules: dict[str, str] = par(
        {},
        unit="slot: name",
        kind="setting",
        meaning="Replace the rule in a step slot by another registered rule, or 'off'; "
        "e.g. {adopt: bass}. See `nextpractice params` for slots and rules.",
    )
    schedule: list[dict[str, Any]] = par(
        [],
        unit="entries",
        kind="setting",
        meaning="Live parameters that change at dates during the run: a list of {month: "
        "months after the start, or year: on the results' year axis; set: {name: value}}, "
        "each applied at the start of the step nearest its date, as a trainer's change is "
        "(sim.model.schedule). E.g. [{month: 56, set: {tightness: 0.4}}].",
    )
    compiled: bool = par(
        True,
        unit="true/false",
        kind="setting",
        meaning="Run each rule's and strategy's compiled kernels (true), or their readable "
        "numpy forms beside them (false): the same run bit for bit, several times slower. "
        "Set false to step through a rule in a debugger, or to try a change to a numpy "
        "form before porting it to its kernel.",
    )

    # ----------------------------------------------------------------- structure
    n_authorities: int = par(
        4,
        lo=1,
        hi=1000,
        unit="authorities",
        kind="structure",
        meaning="Number of local authorities.",
    )
    n_schools: int = par(
        200, lo=2, hi=100_000, unit="schools", kind="structure", meaning="Number of schools."
    )
    n_towns: int = par(
        3,
        lo=1,
        hi=200,
        unit="towns per authority",
        kind="structure",
        meaning="Towns in each authority; schools in a town are tied.",
    )
    share_early_years: float = par(
        0.02,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        ref=DFES_2007,
        meaning="Share of schools that are nursery (early years).",
    )
    share_secondary: float = par(
        0.16,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        ref=DFES_2007,
        meaning="Share of schools that are secondary.",
    )
    share_special: float = par(
        0.045,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        ref=DFES_2007,
        meaning="Share of schools that are special schools.",
    )
    share_fe: float = par(
        0.015,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        meaning="Share of institutions that are further-education colleges.",
    )
    n_ties_town: float = par(
        4.0,
        lo=0,
        hi=50,
        unit="ties per school",
        kind="structure",
        meaning="Mean number of lateral ties to schools in the same town (same phase preferred).",
    )
    share_same_phase: float = par(
        0.7,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        meaning="Share of town ties drawn within the same phase.",
    )
    n_ties_cross: float = par(
        0.3,
        lo=0,
        hi=20,
        unit="ties per school",
        kind="structure",
        ref=FULLAN_2006,
        meaning="Mean initial number of ties to schools in other authorities.",
    )
    share_collab_init: float = par(
        0.1,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        meaning="Share of schools in a collaborative at the start.",
    )
    share_formal_init: float = par(
        0.2,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        ref=JACKSON_2011,
        meaning="Share of initial collaboratives that are formalised "
        "(trust, federation, collegiate academy).",
    )

    # ---------------------------------- the initial system: practices, and a school's room for them
    # (room, n_focus and difficulty_focus, is read by implement, adopt and review)
    n_practices_init: int = par(
        12,
        lo=1,
        hi=1000,
        unit="practices",
        kind="structure",
        meaning="Practices known at the start (today's good practice).",
    )
    sd_effect_init: float = par(
        0.2,
        lo=0,
        hi=3,
        unit="logit",
        kind="uncertainty",
        sweep=(0.1, 0.3),
        sweep_ref="true effects' spread of 0.06 to 0.18 SD (x1.65 logit per SD): Kraft 2023's "
        "30th-70th percentiles of published effects (0.02-0.21 SD, an sd near 0.18 SD) is the "
        "top, since published spreads include sampling noise; a judgement below that",
        ref="Kraft 2020 and 2023 (Educational Researcher 49(4), 10.3102/0013189X231155154); "
        "conversion 1 SD ~ 1.65 logit at a 65% pass share (docs/model.md, bounded effects)",
        meaning="Spread of the true effects of the practices known at the start, each against "
        "the school not running it (business as usual), at full depth.",
    )
    mean_effect_init: float = par(
        0.1,
        lo=-1,
        hi=1,
        unit="logit",
        kind="uncertainty",
        sweep=(0.0, 0.16),
        sweep_ref="no effect on average up to 0.10 SD (Kraft 2020's median of published "
        "effects, inflated by selection); 0.06 SD (Lortie-Forgues and Inglis 2019's mean "
        "over 141 large trials) is 0.1 logit",
        ref="Lortie-Forgues and Inglis 2019, Educational Researcher 48(3): mean effect "
        "0.06 SD over 141 RCTs; x1.65 logit per SD near a 65% pass share",
        meaning="Mean true effect of the practices known at the start against business as "
        "usual (the school not running it), at full depth.",
    )
    rel_effect_spread: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.3, 1.0),
        sweep_ref="a judgement anchored on two verified EEF re-trials at scale whose effect "
        "fell to zero (Switch-on Reading, Philosophy for Children) and on small studies "
        "reporting about twice large ones' effects (Cheung and Slavin 2016); 1 is no fade",
        ref="Al-Ubaydli, List and Suskind 2017 (the voltage drop); EEF efficacy and "
        "effectiveness trials of Switch-on Reading and Philosophy for Children",
        meaning="Share of a new practice's effect that survives at a school that neither "
        "invented nor co-designed it in a field trial (scale-up fade). Practices known "
        "at the start are established: their effects are already effects at scale.",
    )
    n_domains: int = par(
        4,
        lo=1,
        hi=20,
        unit="domains",
        kind="structure",
        ref=GIBBONS_2007,
        meaning="Domains a practice belongs to (pedagogy, curriculum, "
        "leadership, structures...). Coherence is depth in one domain.",
    )
    n_slots: int = par(
        6,
        lo=1,
        hi=30,
        unit="practices",
        kind="structure",
        meaning="Most practices a school runs at once.",
    )
    n_running_init: int = par(
        2,
        lo=0,
        hi=30,
        unit="practices",
        kind="structure",
        meaning="Known practices each school already runs at the start "
        "(picked at random; the status quo).",
    )
    init_depth: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.3, 0.8),
        sweep_ref="a judgement: no survey measures how far schools had implemented their practices "
        "in 1998; the status quo from barely (0.3) to mostly (0.8) implemented",
        meaning="Implementation depth of the practices each school runs at the start: half "
        "implemented, as before; an assumption, not from a source.",
    )
    cost_mean: float = par(
        0.12,
        lo=0,
        hi=2,
        unit="share of budget",
        kind="uncertainty",
        sweep=(0.04, 0.4),
        sweep_ref="EEF's cost bands over a 250-pupil school's 50k discretionary budget: GBP 8 "
        "a pupil to the 'very low' band's ceiling of GBP 80 (EEF Toolkit; docs/sources.md); "
        "the default a judgement",
        meaning="Mean yearly running cost of a practice, as a share of a "
        "school's discretionary budget.",
    )
    n_focus: float = par(
        4.0,
        lo=0.1,
        hi=30,
        unit="practices",
        kind="uncertainty",
        sweep=(2.0, 8.0),
        sweep_ref="a judgement: no count of practices a school runs in depth was found (literature "
        "note D); Fullan's few key priorities and the Implementation Review Unit's 'just a few key "
        "strategies' suggest two to four, eight is generous",
        meaning="Practices of average difficulty a school of full capacity can "
        "implement in depth at once; more than that dilutes depth.",
    )
    difficulty_focus: float = par(
        0.5,
        lo=0.05,
        hi=0.95,
        unit="1",
        kind="uncertainty",
        sweep=(0.35, 0.65),
        sweep_ref="a judgement: difficulty has no measured scale; around the mean difficulty of "
        "the practices known at the start (Beta(2, 2): 0.5), +-0.15; it scales room as n_focus "
        "does",
        meaning="Difficulty of the practices n_focus counts: a school's room is capacity * "
        "n_focus * this; 0.5 as before, the mean of the starting practices' difficulty "
        "(it does not set that distribution).",
    )

    # ------------------------------------------ valuing and judging practice: read by several rules
    # (sd_judge: adopt and the centre's field trials; sd_prior and rel_cost: every
    # valuation of a slot, in adopt, review and every take-up)
    sd_judge: float = par(
        0.3,
        lo=0.01,
        hi=3,
        unit="logit",
        kind="uncertainty",
        sweep=(0.1, 0.6),
        sweep_ref="a judgement: no study measures how well a head reads a peer's practice; from a "
        "sharp read (0.1) to one twice the widest spread of true effects (0.6; sd_effect_init's "
        "top is 0.3)",
        meaning="Noise in a head's read of a practice heard of from a peer.",
    )
    sd_prior: float = par(
        0.2,
        lo=0.01,
        hi=3,
        unit="logit",
        kind="uncertainty",
        sweep=(0.1, 0.5),
        sweep_ref="a judgement: heads' priors are unmeasured; from sceptical (0.1, the narrowest "
        "spread of true effects in sd_effect_init's range) to open-minded (0.5) priors around no "
        "effect",
        meaning="Spread of a head's prior belief about a new practice's effect "
        "(centred on no effect): scepticism.",
    )
    rel_cost: float = par(
        0.3,
        lo=0,
        hi=10,
        unit="logit per budget",
        kind="uncertainty",
        sweep=(0.1, 1.0),
        sweep_ref="a judgement: no source prices attainment against money in these units "
        "(docs/sources.md); cost counts for a third to three times the default against effect",
        meaning="Weight of a practice's cost against its judged effect.",
    )

    # --------------------- taking up and keeping practice: read by the shared actions of every rule
    dur_commit: float = par(
        12.0,
        lo=0,
        hi=120,
        unit="months",
        kind="uncertainty",
        sweep=(6.0, 36.0),
        sweep_ref="two terms, the best case for the implementation dip ('within six months in our "
        "best efforts', literature note C), to three years, within the 2-4 years full "
        "implementation takes (Fixsen et al. 2005)",
        meaning="A school gives a practice it took up this long before it "
        "drops or replaces it (the implementation dip).",
    )
    init_own_mandated: float = par(
        0.4,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.15, 0.5),
        ref=FULLAN_2006,
        sweep_ref="a judgement anchored on seed 003 (a focus tightened from above soon reaches the "
        "limit of a top-down strategy; reform must win hearts and minds), which gives the "
        "direction, not the size: compliance well below a chosen practice's ownership",
        meaning="Ownership of a practice a school was told to run (compliance, not commitment).",
    )
    init_own_chosen: float = par(
        0.7,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.5, 0.9),
        sweep_ref="a judgement: ownership has no measured scale; above a mandated practice "
        "(init_own_mandated), below one a school helped create (init_own_created)",
        meaning="Ownership of a practice a school chose.",
    )
    init_own_created: float = par(
        0.95,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.8, 1.0),
        sweep_ref="a judgement: ownership has no measured scale; a practice a school helped create "
        "is nearly fully owned (0.8 to 1)",
        meaning="Ownership of a practice a school helped to create.",
    )
    rel_engagement_collab: float = par(
        0.2,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref=NEXT_PRACTICE,
        sweep=(0.0, 0.4),
        sweep_ref="a judgement: no study gives the size; a collaborative adds nothing up to twice "
        "the default to a member's engagement",
        meaning="Engagement a school gains from belonging to a collaborative (added to trust on "
        "its ties times facilitation, then clipped to 0..1); 0.2 as before, an "
        "assumption, not from a source.",
    )
    rel_own_new_head: float = par(
        0.7,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.4, 0.95),
        sweep_ref="a judgement anchored on Miller 2013 (results fall for two years after a new "
        "principal: literature note C), which gives the direction, not the share kept; a new head "
        "keeps two fifths to nearly all of the staff's ownership",
        meaning="Share of ownership that survives a change of head.",
    )

    # ----------------------------------------- the initial system and every new head: heads' traits
    # Drawn for the first heads and every replacement (sim.model.model.NextPracticeModel.new_heads).
    head_openness_a: float = par(
        3.0,
        lo=0.01,
        hi=100,
        unit="1",
        kind="uncertainty",
        sweep=(1.5, 5.0),
        sweep_ref="a judgement: no survey measures heads' openness on this scale; mean openness "
        "from 0.43 to 0.71 at b = 2",
        meaning="First shape of the Beta distribution of heads' "
        "openness to new ideas (with b = 2: mean 0.6, most "
        "heads moderately open). An assumption of the model, "
        "not calibrated.",
    )
    head_openness_b: float = par(
        2.0,
        lo=0.01,
        hi=100,
        unit="1",
        kind="uncertainty",
        sweep=(1.0, 4.0),
        sweep_ref="a judgement: no survey measures heads' openness on this scale; mean openness "
        "from 0.75 to 0.43 at a = 3",
        meaning="Second shape of the Beta distribution of heads' openness.",
    )
    sd_head_ingenuity: float = par(
        0.5,
        lo=0,
        hi=3,
        unit="log",
        kind="uncertainty",
        sweep=(0.2, 1.0),
        sweep_ref="a judgement: heads' ingenuity is unmeasured; heads alike (0.2) to a few "
        "inventing several times more than most (1.0)",
        meaning="Log-scale spread of heads' ingenuity, log-normal "
        "with mean 1 (log-mean -sd^2/2): a few heads invent "
        "far more than most. An assumption, not calibrated.",
    )
    head_appetite_a: float = par(
        1.5,
        lo=0.01,
        hi=100,
        unit="1",
        kind="uncertainty",
        ref=NEXT_PRACTICE,
        sweep=(0.75, 3.0),
        sweep_ref="a judgement: no survey measures heads' appetite for system leadership; mean "
        "appetite from 0.2 to 0.5 at b = 3",
        meaning="First shape of the Beta distribution of heads' appetite "
        "for system leadership (with b = 3: mean 1/3, a "
        "minority with strong appetite).",
    )
    head_appetite_b: float = par(
        3.0,
        lo=0.01,
        hi=100,
        unit="1",
        kind="uncertainty",
        ref=NEXT_PRACTICE,
        sweep=(1.5, 6.0),
        sweep_ref="a judgement: no survey measures heads' appetite for system leadership; mean "
        "appetite from 0.5 to 0.2 at a = 1.5",
        meaning="Second shape of the Beta distribution of heads' appetite for system leadership.",
    )

    # ----------------------------------------------------------------- the initial system: capacity
    init_capacity_mean: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.35, 0.65),
        sweep_ref="a judgement: capacity has no national measure; the default +-0.15",
        meaning="Mean initial collective capacity of a school.",
    )
    init_capacity_sd: float = par(
        0.15,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.05, 0.25),
        sweep_ref="a judgement: capacity has no national measure; schools alike (0.05) to very "
        "unequal (0.25) in capacity",
        meaning="Spread of initial collective capacity.",
    )
    rho_capacity_perf: float = par(
        0.5,
        lo=-1,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.2, 0.8),
        sweep_ref="a judgement: with no measure of capacity its link with results is unmeasured; a "
        "weak (0.2) to strong (0.8) link",
        meaning="Correlation of initial capacity with initial "
        "performance (stronger schools have more capacity).",
    )

    # -------------------------------------------------------------- the initial system: performance
    init_perf_mean: float = par(
        0.648,
        lo=0.01,
        hi=0.99,
        unit="share of pupils",
        kind="structure",
        ref=KS2,
        meaning="Mean initial performance: share of pupils reaching the "
        "expected standard (KS2 English level 4+, 1998: 64.8%).",
    )
    sd_perf_init: float = par(
        0.6,
        lo=0,
        hi=3,
        unit="logit",
        kind="structure",
        ref="fitted to England's four facts on the bottom of the spread between schools "
        "(2006 English below 65%, 2008 and 2009 English and maths below 55%, 2008 more than "
        "half below level 4; docs/sources.md, section 3) through the model's own published "
        "results, on a grid of 0.025 (scripts/extremes_at_england_mean.py --fit-spread: "
        "squared log misfit 0.021 at 0.575, 0.013 at 0.6, 0.035 at 0.625); the facts at the "
        "top are left to test it. No source measures 1998's spread, nor its shape (normal "
        "logits, a judgement)",
        meaning="Spread of initial performance between schools.",
    )

    init_perf_small: float = par(
        0.56,
        lo=-1,
        hi=1,
        unit="logit",
        kind="structure",
        ref="fitted with sd_perf_init, within 0 to 0.56, to England's four facts on the bottom "
        "of the spread between schools and its four 1998 facts on schools below the national "
        "result (scripts/extremes_at_england_mean.py --fit-link; docs/sources.md, section 3): "
        "the fit takes the range's top. The range is a judgement between two sources: the Small "
        "Schools Association found pupils of schools of 100 or fewer on roll 0.38-0.56 logit "
        "ahead in 1997, by subject (TES, 20 February 1998, 'Small schools want results "
        "recognised'); a written answer found little effect above 10 pupils a year group "
        "(TES, 'Surprise as small-school pupils lag behind peers'). The five facts on the top "
        "and TES1999's 78 of 102 perfect results from small classes are left to test it",
        meaning="How much higher, in logits, a school with a KS2 cohort of 15 or fewer pupils "
        "(the DfE table's smallest band) starts than the others, centred over England's "
        "schools; 0: cohort size and results independent.",
    )

    # ------------------------- a school's own reads: review reads them, every valuation weighs them
    sd_observe: float = par(
        0.6,
        lo=0.01,
        hi=5,
        unit="logit",
        kind="uncertainty",
        sweep=(0.3, 1.2),
        sweep_ref="a judgement: no study measures a school's read of one practice it runs; half to "
        "twice the default noise of a school's own monthly read",
        meaning="Noise of a school's monthly read of a practice it runs; "
        "evidence-based decision-making sharpens it.",
    )
    rel_evidence_observe: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref=FULLAN_2006,
        sweep=(0.2, 0.8),
        sweep_ref="a judgement: seed 003 names evidence-based decision-making as a lever, not its "
        "size; at full strength it cuts a school's read noise by a fifth to four fifths",
        meaning="Share of sd_observe that the evidence lever at full strength removes: the noise "
        "is sd_observe * (1 - this * lever_evidence); 0.5 (halved) as before, an "
        "assumption, not from a source.",
    )

    # --------------------------------- ties and trust: read by the initial system and several rules
    init_trust: float = par(
        0.4,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.2, 0.6),
        sweep_ref="a judgement: trust between schools has no measured scale; new ties start with "
        "low (0.2) to moderate (0.6) trust",
        meaning="Trust on a new tie.",
    )
    rate_trust: float = par(
        0.1,
        lo=0,
        hi=1,
        unit="1/exchange",
        kind="uncertainty",
        ref=FULLAN_2006,
        sweep=(0.03, 0.25),
        sweep_ref="a judgement: seed 003 names trust among effective networks' components, not how "
        "fast it grows; trust half-way to full after 3 to 23 useful exchanges",
        meaning="Step of trust towards 1 after a useful exchange, towards 0 after a useless one.",
    )

    # --------------- authorities: the initial system, and the stance of a strategy that stands back
    facilitation_absent: float = par(
        0.35,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.15, 0.5),
        sweep_ref="a judgement: seed 003 names facilitation among effective networks' components, "
        "not its size; schools' own networks give weak (0.15) to moderate (0.5) facilitation",
        meaning="Facilitation schools find for themselves when the "
        "authority is absent (schools' own networks).",
    )

    # ------------------------------------------- collaboratives: the initial system and collaborate
    n_collab_size: int = par(
        4, lo=2, hi=50, unit="schools", kind="structure", meaning="Schools in a new collaborative."
    )

    # ------------------------- field trials: the initial system's evidence, and the centre's trials
    n_trial_sites: int = par(
        6,
        lo=1,
        hi=200,
        unit="schools",
        kind="lever",
        ref=NEXT_PRACTICE,
        meaning="Volunteer schools in each field trial (17 projects in 2006-08 in seed 002).",
    )
    dur_trial: float = par(
        12.0,
        lo=1,
        hi=120,
        unit="months",
        kind="lever",
        ref=NEXT_PRACTICE,
        meaning="Length of a field trial.",
    )
    sd_trial: float = par(
        0.35,
        lo=0.01,
        hi=5,
        unit="logit",
        kind="uncertainty",
        sweep=(0.2, 1.0),
        sweep_ref="a judgement from two derived figures: at 0.35 a trial with 30 schools an "
        "arm has the standard error of the average EEF trial, 0.125 logit (literature note "
        "B5, from Lortie-Forgues and Inglis 2019); the spread between schools is 0.48 logit "
        "net of cohort noise (docs/sources.md), less what a pre-test explains; 1.0 is a "
        "trial as noisy as an unadjusted comparison plus uneven implementation",
        meaning="Between-site standard deviation of a trial site's outcome that the "
        "trial's design does not remove (schools' differences after adjustment, uneven "
        "implementation); with the pupils' binomial noise it sets a trial's sampling error "
        "(field_trials).",
    )
    threshold_proven: float = par(
        0.05,
        lo=-1,
        hi=2,
        unit="logit",
        kind="lever",
        ref="literature note B2: EEF's practical bar, +1 month (0.02-0.09 SD, about "
        "0.03-0.15 logit), with a secure estimate; the value within it a judgement",
        meaning="Least effect worth the cost: a trialled practice is proven when the lower "
        "confidence bound of its estimate (field_trials.share_confidence) clears it.",
    )

    # ----------------------------------------------------------------- costs and budgets
    # One unit, GBP thousand (a year for budgets and yearly costs), per school of the
    # model system where it says so; see sim/system/costs.py. No figure is tuned to an answer.
    budget_centre: float = par(
        12.0,
        lo=0,
        hi=1000,
        unit="GBP k per school per year",
        kind="lever",
        sweep=(4.0, 21.0),
        sweep_ref="the National Strategies: central delivery alone 4.2k a maintained school "
        "(H2009J, 2007-08), the Primary Strategy's Standards Fund 12.1k a primary school "
        "(H2007N, 2007-08), all the strategies 21.4k a maintained school (H2009J); "
        "docs/sources.md",
        ref="H2007N, H2009J: Hansard written answers on the National Strategies' spending "
        "(sim/data/national_strategies_spending_england)",
        meaning="The centre's yearly budget for its actions (trials, "
        "brokering, mandates and their running), per school in the system.",
    )
    budget_authority: float = par(
        6.0,
        lo=0,
        hi=1000,
        unit="GBP k per school per year",
        kind="lever",
        sweep=(3.5, 17.0),
        sweep_ref="from the strategies' money for local delivery and the school improvement "
        "partner subsidy, 3.5k a maintained school (H2009J, H2007S), to the Standards Fund "
        "for local delivery and schools' training, 17.2k (H2009J); the default within it a "
        "judgement (authorities' own advisers are counted by no source found): "
        "docs/sources.md",
        ref="H2009J, H2007S (sim/data/national_strategies_spending_england, "
        "school_improvement_spending_england)",
        meaning="Each authority's yearly budget for facilitation and "
        "capacity investment, per school it serves (times its "
        "budget index, which a cut lowers).",
    )
    school_budget: float = par(
        50.0,
        lo=0,
        hi=10_000,
        unit="GBP k per year",
        kind="structure",
        ref="DM2006: direct payments of about GBP 50,000 an average primary head spends at "
        "discretion from 2007-08 (sim/data/school_improvement_spending_england)",
        meaning="A school's discretionary budget, which practices' running "
        "costs (cost_mean) are shares of: only for reporting "
        "spend_schools in GBP.",
    )
    cost_facilitate: float = par(
        2.0,
        lo=0,
        hi=100,
        unit="GBP k per school per year",
        kind="uncertainty",
        sweep=(0.7, 3.5),
        ref=GIBBONS_2007,
        sweep_ref="school improvement partners: subsidy 0.72k a school (H2007S), an "
        "authority's flat fee 2.0k (TES2005S), five days of a system leader 2.1-3.5k "
        "(NA2015; the five days a judgement): docs/sources.md",
        meaning="Cost to an authority of animating or administering "
        "one school's networks for a year at facilitation 1.",
    )
    cost_capacity: float = par(
        4.0,
        lo=0,
        hi=100,
        unit="GBP k per school per year",
        kind="uncertainty",
        sweep=(2.0, 14.0),
        ref=FULLAN_2006,
        sweep_ref="top: the strategies' Standards Fund for schools' training, 14.0k a school "
        "(H2009J, 2008-09), the Primary Strategy's targeted support 11.5k (H2009L); the "
        "default and the bottom a judgement: docs/sources.md",
        meaning="Cost to an authority of full capacity investment in one school for a year.",
    )

    # ------------------ adversity: the trainer's budget cut and shocks; invention and collaboration
    share_budget_cut: float = par(
        0.3,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref=JACKSON_2011,
        sweep=(0.0, 0.5),
        sweep_ref="no cut to half; the 2010 Spending Review cut central funding to "
        "councils about 26% over four years (LGC2010), grants fell 36.3% in real terms "
        "2009-10 to 2014-15 (IFS2015)",
        meaning="Share of the budget cut.",
    )
    rel_adversity: float = par(
        3.0,
        lo=0,
        hi=20,
        unit="1 per budget lost",
        kind="uncertainty",
        sweep=(0, 6),
        ref=JACKSON_2011,
        sweep_ref="a judgement: no burning platform up to twice the default response; seed "
        "001 describes the response, not its size (docs/sources.md)",
        meaning="Rise in invention and collaboration per unit of budget "
        "lost, times capacity: the burning platform.",
    )

    # ----------------------------------------------------- structure of the reduced modes' networks
    # Used only by the reduced modes' networks (sim/system/networks.py).
    z_degree: float = par(
        4.0,
        lo=0,
        hi=1000,
        unit="ties per school",
        kind="structure",
        ref="Erdos & Renyi (1959)",
        meaning="Mean degree of the erdos_renyi network.",
    )
    k_lattice: int = par(
        2,
        lo=1,
        hi=500,
        unit="ties each side",
        kind="structure",
        ref="Watts & Strogatz, Nature 393:440 (1998)",
        meaning="Neighbours on each side in ring_lattice and rewired_lattice.",
    )
    p_rewire: float = par(
        1.0,
        lo=0,
        hi=1,
        unit="1",
        kind="structure",
        ref="Maslov & Sneppen, Science 296:910 (2002)",
        meaning="rewired_lattice: degree-preserving double-edge swaps "
        "attempted, per tie (1: a fully randomised twin).",
    )

    # ----------------------------------------------------------------- declared by rules
    declared: dict[str, bool | int | float | str] = par(
        {},
        unit="name: value",
        kind="setting",
        meaning="Values in force of the parameters rules and strategies declare themselves, "
        "keyed <declaring rule or mechanism>.<parameter> (e.g. judged.threshold_adopt); "
        "set them as top-level keys of that name. Holds those set and the defaults of "
        "the keys the rules and strategy in use read.",
    )

    @classmethod
    def all_fields(cls) -> dict[str, FieldInfo]:
        """Every parameter as a pydantic field, the declared ``rule.param`` ones last.

        What sweeps and calibration list (:func:`sim.experiments.declared_factors`).
        """
        return all_fields()

    @classmethod
    def value_problem(
        cls, name: str, value: Any, at: str | None = None, write: Any = None
    ) -> str | None:
        """Why a file's ``value`` is not of ``name``'s type, or None (:func:`type_problem`).

        What experiment and calibration files call to check the values they set.
        """
        return type_problem(name, value, at=at, write=write)

    # ----------------------------------------------------------------- validation
    @model_validator(mode="before")
    @classmethod
    def _budget_totals(cls, data: Any) -> Any:
        # A budget given as a total a year (BUDGET_TOTALS) becomes its per-school value.
        if not isinstance(data, dict) or not any(k in data for k in BUDGET_TOTALS):
            return data
        data = dict(data)
        n = data.get("n_schools", cls.model_fields["n_schools"].default)
        for key, spec in BUDGET_TOTALS.items():
            if key not in data:
                continue
            total, target = data.pop(key), spec["sets"]
            if target in data:
                raise ValueError(
                    f"{key} and {target} are both given; give one: the total a year for "
                    f"the whole system ({spec['unit']}) or the amount per school "
                    f"({field_info(target)['unit']})"
                )
            if isinstance(total, bool) or not isinstance(total, int | float) or total < 0:
                raise ValueError(
                    f"{key} must be a number of {spec['unit']}, 0 or more (got "
                    f"{total!r}); e.g. {key}: 5.0"
                )
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                return {**data, target: total}  # n_schools' own check says what is wrong
            value = per_school(float(total), n)
            hi = field_info(target)["hi"]
            if value > hi:
                raise ValueError(
                    f"{key}: {total} {spec['unit']} over {n} schools is {value:.4g} GBP k "
                    f"per school a year, above {target}'s most ({hi}); give a smaller total"
                )
            data[target] = value
        return data

    @model_validator(mode="before")
    @classmethod
    def _gather_declared(cls, data: Any) -> Any:
        # Keys <name>.<param> go into `declared`, checked against the declarations and
        # completed with their defaults. Plug-ins first: they may declare parameters.
        if not isinstance(data, dict):
            return data
        _ensure_builtins()
        if isinstance(data.get("plugins"), list | tuple):
            import_plugins(data["plugins"])
        data = dict(data)
        given = data.pop("declared", None) or {}
        if not isinstance(given, dict):
            raise ValueError("'declared' must be a mapping of <rule>.<parameter>: value")
        given = dict(given)
        for key in [k for k in data if isinstance(k, str) and "." in k]:
            given[key] = data.pop(key)
        for key in data:  # a parameter declared beside its rule, given without its name
            if isinstance(key, str) and key not in cls.model_fields:
                hint = key_hint(key)
                if hint is not None:
                    raise ValueError(f"unknown parameter {key!r}: {hint}")
        rules = data.get("rules") if isinstance(data.get("rules"), dict) else {}
        # Only names: a list or mapping given for a slot is refused by the rules field itself.
        used = {
            name
            for slot in STEP_ORDER
            if isinstance(name := rules.get(slot, DEFAULTS.get(slot)), str)
        }
        used.add(data.get("strategy", cls.model_fields["strategy"].default))
        data["declared"] = resolve_declared(given, used)
        return data

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, v: str) -> str:
        _ensure_builtins()
        if v not in STRATEGIES:
            hint = form_hint("strategy", v, STRATEGIES)
            if hint is not None:
                raise ValueError(hint)
            raise ValueError(f"unknown strategy {v!r}; valid: {', '.join(sorted(STRATEGIES))}")
        return v

    @field_validator("network")
    @classmethod
    def _known_network(cls, v: str) -> str:
        _ensure_builtins()
        if v not in NETWORKS:
            raise ValueError(f"unknown network {v!r}; valid: {', '.join(sorted(NETWORKS))}")
        return v

    @field_validator("plugins", mode="before")
    @classmethod
    def _import_plugins(cls, v: Any) -> Any:
        # The first field, so it runs before the name checks of strategy, network and rules.
        # A list (YAML has no tuples) is made a tuple: strict mode refuses a list for a tuple.
        if isinstance(v, list | tuple):
            import_plugins(v)
            return tuple(v)
        return v

    @field_validator("rules", mode="before")
    @classmethod
    def _off_is_off(cls, v: Any) -> Any:
        # YAML 1.1 reads a bare `off` as False; a rule slot switched off is meant.
        if isinstance(v, dict):
            return {k: ("off" if val is False else val) for k, val in v.items()}
        return v

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, v: dict[str, str]) -> dict[str, str]:
        _ensure_builtins()
        for slot, name in v.items():
            if slot not in RULES:
                raise ValueError(f"unknown rule slot {slot!r}; valid: {', '.join(STEP_ORDER)}")
            if name != "off" and name not in RULES[slot]:
                hint = form_hint(f"the rule for slot {slot!r},", name, RULES[slot])
                if hint is not None:
                    raise ValueError(hint)
                valid = ", ".join(sorted(RULES[slot]) + ["off"])
                raise ValueError(f"unknown rule {name!r} for slot {slot!r}; valid: {valid}")
        return v

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule_shape(cls, v: Any) -> Any:
        # Each entry's keys, date and live names (sim.model.schedule); values below.
        if not isinstance(v, list | tuple):
            return v  # the field's own type check says what is wrong
        from sim.model.schedule import check_entry_shape

        live = live_names()
        return [check_entry_shape(i, e, live) for i, e in enumerate(v)]

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, v: Any, info: ValidationInfo) -> Any:
        from sim.inputs.consistency import no_bool_for_number

        return no_bool_for_number(cls.model_fields[info.field_name].annotation, v)

    @model_validator(mode="after")
    def _consistent(self) -> Params:
        shares = self.share_early_years + self.share_secondary + self.share_special + self.share_fe
        if shares > 1:
            raise ValueError(
                f"the phase shares add to {shares:.3f}; primary takes the rest, so "
                "share_early_years + share_secondary + share_special + share_fe must be at most 1"
            )
        if self.n_schools < self.n_authorities:
            raise ValueError(
                f"n_schools ({self.n_schools}) must be at least n_authorities "
                f"({self.n_authorities})"
            )
        from sim.inputs.consistency import impossible_combinations

        impossible_combinations(self)  # values the model could honour only by capping one
        if self.schedule:
            _check_schedule_values(self)
        return self


def _check_schedule_values(p: Params) -> None:
    """Each scheduled value is one its live parameter accepts; the dates are in the run.

    Raises:
        ValueError: one line naming ``schedule[i].set.<name>`` and the fix.
    """
    from sim.model.schedule import check_schedule

    table = declared_params()
    for i, entry in enumerate(p.schedule):
        for name, value in entry["set"].items():
            at = f"schedule[{i}].set.{name}"
            why = type_problem(name, value, at=at)
            if why is not None:
                raise ValueError(why)
            if name in table:
                bad = table[name].check(value)
                if bad is not None:
                    raise ValueError(f"{at}: {bad}")
                continue
            if name == "strategy":
                _ensure_builtins()
                if value not in STRATEGIES:
                    raise ValueError(
                        f"{at}: unknown strategy {str(value)[:40]!r}; valid: "
                        f"{', '.join(sorted(STRATEGIES))}"
                    )
                continue
            info = field_info(name)
            lo, hi = info["lo"], info["hi"]
            if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ValueError(f"{at}: {value} is outside [{lo}, {hi}]; give a value in it")
    check_schedule(p.schedule, p.start_year, p.dur_step)


def _ensure_builtins() -> None:
    """Register the built-in rules, strategies and networks, so their names can be checked.

    A lazy import: the schema does not depend on the implementations at import
    time, and ``Params(strategy="top_down")`` works without importing the model.
    """
    import sim.model.builtin  # noqa: F401


def key_to_set(name: str) -> str | None:
    """For a name that is not a parameter: which key to set instead, if one is plain.

    :func:`sim.core.registry.key_hint`, with the built-ins registered first: a
    parameter's former key (``rate_perf``, now ``practice_effects.rate_perf``) or a
    numpy form's former name (``judged_numpy.w_agenda``) names the key to set.
    """
    _ensure_builtins()
    return key_hint(name)


def resolve_declared(given: dict[str, Any], used: Iterable[Any] | None = None) -> dict[str, Any]:
    """The declared parameters' values in force: those given, checked, and the defaults.

    Args:
        given: ``rule.param`` -> value; every key must be declared by a registered
            rule or strategy (in use or not).
        used: the names of the rules and strategy a run uses: the defaults of the
            keys they read are filled in, and those of every built-in rule and
            strategy (a switched-off rule's parameters are listed, as the schema's
            are; a rule of another process's plug-in is not). None: every declared
            key's.

    Raises:
        ValueError: an unknown key (with the valid keys of that rule, or all),
            or a value of the wrong type or out of range (with the range).
    """
    table = declared_params()
    given = dict(given)
    for key, value in given.items():
        spec = table.get(key)
        if spec is None:
            raise ValueError(unknown_declared(key, table))
        why = spec.check(value)
        if why is not None:
            raise ValueError(f"key {key!r} {why}; it means: {spec.meaning}")
        if spec.type is float:  # a whole number for a number, as the schema's fields take it
            given[key] = float(value)
    read = None if used is None else keys_read(used) | builtin_keys()
    out = {key: spec.default for key, spec in table.items() if read is None or key in read}
    out.update(given)
    return out


def type_problem(
    name: str, value: Any, at: str | None = None, command_line: bool = False, write: Any = None
) -> str | None:
    """Why ``value``, as a scenario file or ``--set`` gives it, is not of ``name``'s type.

    Scenario files are strict (:mod:`sim.inputs.strict`, pydantic's strict mode): quoted
    text is not a number (``tightness: "0.5"``), a decimal is not a whole number
    (``n_schools: 1000.0``), a number is not a name (``strategy: 1``), and
    ``"true"`` is not true. A whole number is a number (``tightness: 1``).

    Args:
        name: A field of :class:`Params` or a declared ``rule.param``; other names
            and the container fields (plugins, rules, declared) give None.
        value: The value.
        at: Where it is written, if not at key ``name``.
        command_line: Word the fix as ``--set name=value``.
        write: How to write a value where it is (see :func:`sim.inputs.strict.wrong_type`).

    Returns:
        One line (``tightness: "0.5" is text, but tightness is a number (0 to 1);
        write tightness: 0.5 without quotes``), or None when the type is right.
    """
    from sim.inputs.strict import wrong_type

    if command_line:
        write = lambda v: f"--set {name}={v}"  # noqa: E731
    if name in BUDGET_TOTALS:
        unit = BUDGET_TOTALS[name]["unit"]
        return wrong_type(name, value, float, lo=0, unit=unit, example=5.0, at=at, write=write)
    if name in Params.model_fields:
        if name in ("declared", "schedule"):  # containers: their entries are checked
            return None
        info = field_info(name)
        choices = {"strategy": STRATEGIES, "network": NETWORKS}.get(name)
        if choices is not None:
            _ensure_builtins()
            choices = sorted(choices)
        return wrong_type(
            name,
            value,
            Params.model_fields[name].annotation,
            lo=info["lo"],
            hi=info["hi"],
            unit=info["unit"],
            choices=choices,
            example=info["default"],
            at=at,
            write=write,
        )
    spec = declared_params().get(name) if isinstance(name, str) and "." in name else None
    if spec is None:
        return None
    return wrong_type(
        name,
        value,
        spec.type,
        lo=spec.lo,
        hi=spec.hi,
        unit=spec.unit,
        example=spec.default,
        at=at,
        write=write,
    )


def unknown_declared(key: str, table: dict[str, Any] | None = None) -> str:
    """Why ``key``, with a dot, is not a declared parameter, and what to set instead.

    A key that names a parameter declared under another key (a strategy's
    ``top_down.n_broker``: ``brokering.n_broker``; a numpy form's
    ``judged_numpy.w_agenda``: ``judged.w_agenda``; the former
    ``centre.rel_trust_brokered``: ``brokering.rel_trust_brokered``) names that key
    (:func:`sim.core.registry.key_hint`); else the keys of that namespace, or
    every declared key.
    """
    table = declared_params() if table is None else table
    hint = key_hint(key)
    if hint is not None:
        return f"unknown parameter {key!r}: {hint}"
    ns = key.split(".", 1)[0]
    mine = [k for k in table if k.split(".", 1)[0] == ns]
    if mine:
        return f"unknown parameter {key!r}: {ns!r} declares {', '.join(mine)}"
    return (
        f"unknown parameter {key!r}: no registered rule or strategy {ns!r} "
        f"declares parameters; declared: {', '.join(table) or 'none'}"
    )


def import_plugins(modules: Iterable[str]) -> None:
    """Import the plug-ins that register extra rules, strategies or networks.

    Each is a module name or an absolute ``.py`` path, as :func:`sim.model.plugins.import_plugins`
    leaves them in the parameters (a scenario's relative names are resolved when it is read).

    Raises:
        UserError: a plug-in cannot be imported (the message names it and shows its
            own traceback lines).
    """
    _import_plugins(list(modules))


def _param_field(spec: Param) -> FieldInfo:
    """A declared parameter as a pydantic field, with :func:`par`'s metadata."""
    f = par(
        spec.default,
        unit=spec.unit,
        meaning=spec.meaning,
        kind=spec.kind,
        lo=spec.lo,
        hi=spec.hi,
        ref=spec.ref,
        live=spec.live,
        sweep=spec.sweep,
        sweep_ref=spec.sweep_ref,
    )
    f.annotation = spec.type
    return f


def declared_fields() -> dict[str, FieldInfo]:
    """The parameters rules and strategies declare, as pydantic fields keyed ``rule.param``.

    For code that lists parameters from ``Params.model_fields`` (sweeps,
    calibration): add these to have the declared ones too.
    """
    _ensure_builtins()
    return {key: _param_field(spec) for key, spec in declared_params().items()}


def all_fields() -> dict[str, FieldInfo]:
    """Every parameter as a pydantic field: the schema's, then the declared ones.

    The ``declared`` field, their container, is left out: its entries are listed instead.
    """
    own = {k: f for k, f in Params.model_fields.items() if k != "declared"}
    return {**own, **declared_fields()}


def field_info(name: str) -> dict[str, Any]:
    """Metadata of one parameter: default, bounds, unit, kind, meaning, ref, live, sweep.

    ``name`` is a field of :class:`Params` or a declared ``rule.param``.
    """
    if "." in name:  # one declared field built, not all of them (callers loop over names)
        _ensure_builtins()
        f = _param_field(declared_params()[name])
    else:
        f = Params.model_fields[name]
    extra = dict(f.json_schema_extra or {})
    lo = hi = None
    for m in f.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return {
        "name": name,
        "default": f.default,
        "lo": lo,
        "hi": hi,
        "type": f.annotation
        if isinstance(f.annotation, str)
        else getattr(f.annotation, "__name__", str(f.annotation)),
        "meaning": f.description,
        **extra,
    }


def parameter_table() -> list[dict[str, Any]]:
    """Every parameter's metadata, in declaration order, the declared ones last."""
    return [field_info(n) for n in all_fields()]


def live_names() -> list[str]:
    """Parameters a trainer may change while a run is in progress (declared ones too)."""
    return [n for n in all_fields() if field_info(n)["live"]]


def factors(kinds: tuple[str, ...] = ("uncertainty", "lever")) -> dict[str, tuple[float, float]]:
    """Sweep factors and their ranges, from the ``sweep`` declarations above."""
    out = {}
    for n in all_fields():
        info = field_info(n)
        if info.get("sweep") and info["kind"] in kinds:
            out[n] = tuple(info["sweep"])
    return out
