"""The one typed source of parameter defaults.

Every parameter of the model is declared here once, with its default, its
allowed range, its unit, what it means and, where it comes from the literature
or data, its reference. Scenario files (``scenarios/*.yaml``) hold overrides
over these defaults; sweeps (``experiments/*.yaml``) take their factors and
ranges from the ``sweep`` entries below, so no range is typed twice.

Each field's ``json_schema_extra`` carries:

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

Rules and strategies declare their own parameters beside their code
(:class:`sim.core.registry.Param`; see :mod:`sim.core.registry` for how): their scenario
keys are ``<registered name>.<parameter>`` (e.g. ``judged.w_agenda``), the name
of the class that declares it (a numpy form such as ``judged_numpy`` reads
``judged.w_agenda``; every strategy reads the centre's ``centre.*``), their
values in force are in :attr:`Params.declared`, and every listing helper here
(:func:`field_info`, :func:`parameter_table`, :func:`live_names`,
:func:`factors`, :func:`declared_fields`) includes them. This module holds the
schema only: it imports the registry, never a rule.

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
    declared_params,
    key_hint,
    keys_read,
)
from sim.model.plugins import import_plugins as _import_plugins

# Sources cited in the parameter table.
FULLAN_2006 = "Fullan, Testing systemic solutions (NCSL 2006), seed 003"
GIBBONS_2007 = (
    "Gibbons, The citizen, the state and the practitioner (Innovation Unit 2007), seed 000"
)
JACKSON_2011 = "Jackson, Adversity and innovation make good bedfellows (2011), seed 001"
NEXT_PRACTICE = "Innovation Unit, Next Practice in System Leadership (2006), seed 002"
CHAPMAN_2011 = (
    "Chapman, Muijs and MacAllister, A study of the impact of school federation on "
    "student outcomes (NCSL 2011)"
)
KS2 = "KS2 English level 4+, England; Hansard 4 Sep 2006 col 1987W (shared/data)"
DFES_2007 = "DfES, Schools, pupils and their characteristics, January 2007"


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

    # ----------------------------------------------------------------- practices
    n_practices_init: int = par(
        12,
        lo=1,
        hi=1000,
        unit="practices",
        kind="structure",
        meaning="Practices known at the start (today's good practice).",
    )
    sd_effect_init: float = par(
        0.4,
        lo=0,
        hi=3,
        unit="logit",
        kind="uncertainty",
        sweep=(0.15, 0.45),
        sweep_ref="about half to just over the default: how far known "
        "practices differ is poorly known",
        meaning="Spread of the true effects of the practices known at the start (mean 0).",
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
        sweep_ref="the status quo from barely to mostly implemented",
        meaning="Implementation depth of the practices each school runs at the start: half "
        "implemented, as before; an assumption, not from a source.",
    )
    cost_mean: float = par(
        0.12,
        lo=0,
        hi=2,
        unit="share of budget",
        kind="uncertainty",
        sweep=(0.04, 0.25),
        sweep_ref="a practice costing a few per cent to a quarter of a school's"
        " discretionary budget",
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
        sweep_ref="Fullan's few key priorities: two to eight practices run in depth at once",
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
        sweep_ref="around the mean difficulty of the practices known at the start (Beta(2, 2): "
        "0.5); it scales room as n_focus does",
        meaning="Difficulty of the practices n_focus counts: a school's room is capacity * "
        "n_focus * this; 0.5 as before, the mean of the starting practices' difficulty "
        "(it does not set that distribution).",
    )

    # ----------------------------------------------------------------- invention
    p_invent: float = par(
        0.004,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.001, 0.01),
        ref=GIBBONS_2007,
        sweep_ref="an invention every 8 to 80 school-years at full space and capacity",
        meaning="Chance a school invents a new practice in a month at full "
        "creative space, average ingenuity and full capacity.",
    )
    invent_shift: float = par(
        -0.05,
        lo=-1,
        hi=1,
        unit="logit",
        kind="uncertainty",
        sweep=(-0.15, 0.05),
        sweep_ref="most inventions worse than their parents, up to slightly better",
        meaning="Mean change of effect of an invention over its parents "
        "(below zero: most inventions are no better).",
    )
    invent_scale: float = par(
        0.1,
        lo=0,
        hi=1,
        unit="logit",
        kind="uncertainty",
        sweep=(0.04, 0.16),
        sweep_ref="the default +-60%: how far an invention strays is unmeasured",
        meaning="Scale of the change of effect of an invention (Student t).",
    )
    invent_df: float = par(
        4.0,
        lo=1,
        hi=100,
        unit="1",
        kind="uncertainty",
        sweep=(2.0, 30.0),
        sweep_ref="a heavy tail (2: a few much better inventions) to near-normal (30)",
        meaning="Degrees of freedom of the invention's t distribution: low "
        "gives a heavy tail, so a few inventions are much better. "
        "Draws are truncated at 5 scales either side.",
    )

    # ----------------------------------------------------------------- hearing and judging
    p_exchange: float = par(
        0.08,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.03, 0.2),
        sweep_ref="an exchange about practice every 5 to 33 months on a tie of full trust",
        meaning="Chance a tie of full trust carries an exchange about "
        "practice in a month (Fullan's enquiry).",
    )
    sd_judge: float = par(
        0.3,
        lo=0.01,
        hi=3,
        unit="logit",
        kind="uncertainty",
        sweep=(0.1, 0.6),
        sweep_ref="from a sharp read (0.1) to one as large as the spread of effects (0.6)",
        meaning="Noise in a head's read of a practice heard of from a peer.",
    )
    sd_prior: float = par(
        0.2,
        lo=0.01,
        hi=3,
        unit="logit",
        kind="uncertainty",
        sweep=(0.1, 0.5),
        sweep_ref="sceptical (0.1) to open-minded (0.5) priors around no effect",
        meaning="Spread of a head's prior belief about a new practice's effect "
        "(centred on no effect): scepticism.",
    )
    threshold_adopt: float = par(
        0.03,
        lo=-1,
        hi=1,
        unit="logit",
        kind="uncertainty",
        sweep=(0.0, 0.1),
        sweep_ref="a head adopts for any judged gain, up to a gain of 0.1 logit",
        meaning="Least judged net gain for which a head adopts.",
    )
    rel_cost: float = par(
        0.3,
        lo=0,
        hi=10,
        unit="logit per budget",
        kind="uncertainty",
        sweep=(0.1, 1.0),
        sweep_ref="cost counts for a third to three times the default against effect",
        meaning="Weight of a practice's cost against its judged effect.",
    )

    # ----------------------------------------------------------------- implementation
    dur_commit: float = par(
        12.0,
        lo=0,
        hi=120,
        unit="months",
        kind="uncertainty",
        sweep=(6.0, 36.0),
        sweep_ref="the implementation dip lasts from two terms to three years",
        meaning="A school gives a practice it took up this long before it "
        "drops or replaces it (the implementation dip).",
    )
    rate_depth: float = par(
        0.2,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.05, 0.4),
        sweep_ref="depth half-way to its target in 2 to 14 months",
        meaning="Rate at which implementation depth closes on its target.",
    )
    init_own_mandated: float = par(
        0.4,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.15, 0.5),
        ref=FULLAN_2006,
        sweep_ref="compliance: well below a chosen practice's ownership (seed 003)",
        meaning="Ownership of a practice a school was told to run (compliance, not commitment).",
    )
    init_own_chosen: float = par(
        0.7,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.5, 0.9),
        sweep_ref="above a mandated practice, below one a school helped create",
        meaning="Ownership of a practice a school chose.",
    )
    init_own_created: float = par(
        0.95,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.8, 1.0),
        sweep_ref="a practice a school helped create is nearly fully owned",
        meaning="Ownership of a practice a school helped to create.",
    )
    rate_own: float = par(
        0.02,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.005, 0.05),
        sweep_ref="ownership half-way to engagement in 14 months to 12 years",
        meaning="Rate at which ownership rises towards the school's engagement "
        "(trust on its ties times facilitation): hearts and minds.",
    )
    rel_engagement_collab: float = par(
        0.2,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref=NEXT_PRACTICE,
        sweep=(0.0, 0.4),
        sweep_ref="a collaborative adds nothing up to twice the default to a member's engagement",
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
        sweep_ref="a new head keeps most to nearly all of the staff's ownership",
        meaning="Share of ownership that survives a change of head.",
    )

    # ----------------------------------------------------------------- heads' traits
    # Drawn for the first heads and every replacement (sim.model.model.NextPracticeModel.new_heads).
    head_openness_a: float = par(
        3.0,
        lo=0.01,
        hi=100,
        unit="1",
        kind="uncertainty",
        sweep=(1.5, 5.0),
        sweep_ref="mean openness from 0.43 to 0.71 at b = 2",
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
        sweep_ref="mean openness from 0.75 to 0.43 at a = 3",
        meaning="Second shape of the Beta distribution of heads' openness.",
    )
    sd_head_ingenuity: float = par(
        0.5,
        lo=0,
        hi=3,
        unit="log",
        kind="uncertainty",
        sweep=(0.2, 1.0),
        sweep_ref="heads alike in ingenuity to a few inventing several times more than most",
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
        sweep_ref="mean appetite from 0.2 to 0.5 at b = 3",
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
        sweep_ref="mean appetite from 0.5 to 0.2 at a = 1.5",
        meaning="Second shape of the Beta distribution of heads' appetite for system leadership.",
    )

    # ----------------------------------------------------------------- capacity
    init_capacity_mean: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.35, 0.65),
        sweep_ref="the default +-0.15: capacity has no national measure",
        meaning="Mean initial collective capacity of a school.",
    )
    init_capacity_sd: float = par(
        0.15,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.05, 0.25),
        sweep_ref="schools alike to very unequal in capacity",
        meaning="Spread of initial collective capacity.",
    )
    capacity_absorb: float = par(
        0.5,
        lo=0.01,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.3, 0.8),
        sweep_ref="absorptive capacity reached by a weak-average to a strong school",
        meaning="Capacity from which a head takes in everything they "
        "hear; below it, in proportion (absorptive capacity, "
        "Cohen and Levinthal 1990).",
    )
    rho_capacity_perf: float = par(
        0.5,
        lo=-1,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.2, 0.8),
        sweep_ref="weak to strong link of capacity with results",
        meaning="Correlation of initial capacity with initial "
        "performance (stronger schools have more capacity).",
    )
    rate_capacity: float = par(
        0.02,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.005, 0.05),
        sweep_ref="a quarter to 2.5 times the default gain at full lever and budget",
        meaning="Capacity gained per month at full capacity-building lever "
        "and full budget (times the room left to grow).",
    )
    rel_capacity_learning: float = par(
        1.0,
        lo=0,
        hi=10,
        unit="1",
        kind="uncertainty",
        ref=FULLAN_2006,
        sweep=(0.3, 2.0),
        sweep_ref="learning by doing worth a third to twice a full capacity lever",
        meaning="Capacity built by implementing practice deeply "
        "and with ownership (learning by doing), relative "
        "to a full capacity-building lever.",
    )
    rate_capacity_decay: float = par(
        0.004,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.001, 0.01),
        sweep_ref="capacity half-life without upkeep of 6 to 58 years",
        meaning="Share of capacity lost per month without upkeep.",
    )
    rate_capacity_collab: float = par(
        0.01,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.003, 0.03),
        sweep_ref="members half-way to the strongest in 2 to 19 years",
        meaning="Rate at which a collaborative's members converge "
        "towards its strongest member's capacity.",
    )
    rel_capacity_perf: float = par(
        0.6,
        lo=0,
        hi=5,
        unit="logit",
        kind="uncertainty",
        sweep=(0.3, 1.0),
        sweep_ref="a unit of capacity worth 0.3 to 1 logit (7 to 22 points at 65%)",
        meaning="Effect on performance of one unit of capacity gained.",
    )

    # ----------------------------------------------------------------- performance
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
        0.5,
        lo=0,
        hi=3,
        unit="logit",
        kind="structure",
        meaning="Spread of initial performance between schools.",
    )
    rate_perf: float = par(
        0.2,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.08, 0.4),
        sweep_ref="performance half-way to its support in 1.5 to 8 months (cohorts)",
        meaning="Rate at which performance closes on what the school's "
        "practices and capacity support (cohorts take time).",
    )
    sd_perf_noise: float = par(
        0.02,
        lo=0,
        hi=1,
        unit="logit/month^0.5",
        kind="uncertainty",
        sweep=(0.005, 0.05),
        sweep_ref="month-to-month noise of a quarter to 2.5 times the default",
        meaning="Month-to-month noise in a school's performance.",
    )
    rel_coherence: float = par(
        0.5,
        lo=0,
        hi=5,
        unit="1",
        kind="uncertainty",
        ref=FULLAN_2006,
        sweep=(0.0, 1.0),
        sweep_ref="coherence worth nothing up to doubling the effect of practices",
        meaning="Extra effect of practices when a school's depth is "
        "concentrated in one domain (coherence).",
    )

    # ----------------------------------------------------------------- review and abandon
    sd_observe: float = par(
        0.6,
        lo=0.01,
        hi=5,
        unit="logit",
        kind="uncertainty",
        sweep=(0.3, 1.2),
        sweep_ref="a school's own monthly read: half to twice the default noise",
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
        sweep_ref="full evidence-based decision-making cuts a school's read noise by a fifth to "
        "four fifths",
        meaning="Share of sd_observe that the evidence lever at full strength removes: the noise "
        "is sd_observe * (1 - this * lever_evidence); 0.5 (halved) as before, an "
        "assumption, not from a source.",
    )
    p_review: float = par(
        0.1,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.04, 0.25),
        sweep_ref="practices reviewed every 4 months to every 2 years",
        meaning="Chance a school reviews its practices in a month.",
    )
    threshold_abandon: float = par(
        0.0,
        lo=-1,
        hi=1,
        unit="logit",
        kind="uncertainty",
        sweep=(-0.1, 0.05),
        sweep_ref="drop only clearly harmful practices, up to dropping weak ones",
        meaning="A reviewed practice whose estimated effect is below "
        "this, with confidence, is dropped.",
    )

    # ----------------------------------------------------------------- ties and trust
    init_trust: float = par(
        0.4,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.2, 0.6),
        sweep_ref="new ties start with low to moderate trust",
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
        sweep_ref="trust half-way to full after 3 to 23 useful exchanges",
        meaning="Step of trust towards 1 after a useful exchange, towards 0 after a useless one.",
    )
    p_new_tie: float = par(
        0.01,
        lo=0,
        hi=1,
        unit="1/month",
        kind="lever",
        sweep=(0.0, 0.03),
        meaning="Chance a school forms a new tie in a month at full facilitation and engagement.",
    )
    share_cross_new: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1",
        kind="lever",
        sweep=(0, 1),
        ref=FULLAN_2006,
        meaning="Share of new ties that cross authorities when the engagement lever is full.",
    )
    min_trust: float = par(
        0.05,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.01, 0.15),
        sweep_ref="ties lapse only when trust is nearly gone, up to lapsing at low trust",
        meaning="A tie whose trust falls below this lapses (except formal collaborative ties).",
    )

    # ----------------------------------------------------------------- authorities
    facilitation_administer: float = par(
        0.2,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref=GIBBONS_2007,
        sweep=(0.05, 0.4),
        sweep_ref="an administering authority gives little to "
        "half of an animating one's facilitation (seed "
        "000)",
        meaning="Facilitation an authority gives when its stance is to administer.",
    )
    facilitation_animate: float = par(
        0.8,
        lo=0,
        hi=1,
        unit="1",
        kind="lever",
        sweep=(0.3, 1),
        ref=GIBBONS_2007,
        meaning="Facilitation an authority gives when its stance is to animate.",
    )
    facilitation_absent: float = par(
        0.35,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        sweep=(0.15, 0.5),
        sweep_ref="schools' own networks give weak to moderate facilitation",
        meaning="Facilitation schools find for themselves when the "
        "authority is absent (schools' own networks).",
    )

    # ----------------------------------------------------------------- collaboratives
    p_collab_form: float = par(
        0.003,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.001, 0.008),
        sweep_ref="a system leader founds a collaborative every 10 to 80 "
        "years (times facilitation)",
        meaning="Chance a head with full appetite for system leadership "
        "founds a collaborative in a month (times facilitation).",
    )
    n_collab_size: int = par(
        4, lo=2, hi=50, unit="schools", kind="structure", meaning="Schools in a new collaborative."
    )
    p_formalise: float = par(
        0.01,
        lo=0,
        hi=1,
        unit="1/month",
        kind="lever",
        sweep=(0, 0.04),
        ref=JACKSON_2011,
        meaning="Chance an informal collaborative formalises in a month "
        "(times facilitation, raised by adversity).",
    )
    p_fade_informal: float = par(
        0.7,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref=JACKSON_2011,
        sweep=(0.4, 0.9),
        sweep_ref="most informal collaboratives fade when the founder leaves (seed 001)",
        meaning="Chance an informal collaborative dissolves when its founding head leaves.",
    )

    # ----------------------------------------------------------------- heads
    p_head_leave: float = par(
        0.012,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.005, 0.03),
        sweep_ref="mean tenure of 3 to 17 years",
        meaning="Chance a head leaves in a month (1/84: seven years' mean tenure).",
    )
    p_exec_head: float = par(
        0.01,
        lo=0,
        hi=1,
        unit="1/month",
        kind="lever",
        sweep=(0, 0.03),
        ref=NEXT_PRACTICE,
        meaning="Chance a strong head with full appetite takes on a "
        "struggling school nearby as executive head in a month.",
    )
    rate_exec_support: float = par(
        0.03,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        sweep=(0.0, 0.08),
        ref=CHAPMAN_2011,
        sweep_ref="none, up to closing a capacity gap half-way in 8 months (Chapman 2011)",
        meaning="Share of its capacity gap to the strongest school of "
        "its federation (schools sharing a head) a school "
        "closes in a month.",
    )
    p_exec_share: float = par(
        0.1,
        lo=0,
        hi=1,
        unit="1/month",
        kind="uncertainty",
        ref=CHAPMAN_2011,
        sweep=(0.03, 0.25),
        sweep_ref="a federation passes on its deepest practice in 4 to 33 months",
        meaning="Chance in a month that a federated school takes up the "
        "deepest practice of its federation's strongest school.",
    )

    # ----------------------------------------------------------------- centre
    p_mandate: float = par(
        0.5,
        lo=0,
        hi=1,
        unit="1/month",
        kind="lever",
        sweep=(0.05, 0.5),
        meaning="Share of schools not yet running a mandated practice that "
        "a mandate reaches in a month, at full tightness.",
    )
    n_mandate: int = par(
        3,
        lo=0,
        hi=20,
        unit="practices",
        kind="lever",
        meaning="How many of the best known practices the centre mandates.",
    )
    dur_cycle: float = par(
        6.0,
        lo=1,
        hi=120,
        unit="months",
        kind="lever",
        ref=NEXT_PRACTICE,
        meaning="Months between the centre's horizon scans (stimulate).",
    )
    n_trials: int = par(
        3,
        lo=0,
        hi=100,
        unit="trials per cycle",
        kind="lever",
        sweep=(0, 8),
        ref=NEXT_PRACTICE,
        meaning="Field trials the centre funds in each cycle (incubate).",
    )
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
        0.5,
        lo=0.01,
        hi=5,
        unit="logit per site-month^0.5",
        kind="uncertainty",
        sweep=(0.2, 1.0),
        sweep_ref="trial evaluations from sharp to as noisy as a school's own read",
        meaning="Noise of a trial's co-designed evaluation per site and month.",
    )
    threshold_proven: float = par(
        0.05,
        lo=-1,
        hi=2,
        unit="logit",
        kind="lever",
        meaning="Least estimated effect for a trialled practice to be declared proven.",
    )
    n_broker: float = par(
        2.0,
        lo=0,
        hi=100,
        unit="ties per month",
        kind="lever",
        sweep=(0, 6),
        ref=NEXT_PRACTICE,
        meaning="Ties the centre brokers each month from schools running a "
        "proven practice to schools that do not (accelerate).",
    )

    # ----------------------------------------------------------------- costs and budgets
    # One unit, GBP thousand (a year for budgets and yearly costs), per school of the
    # model system where it says so; see sim/system/costs.py. No figure is tuned to an answer.
    budget_centre: float = par(
        3.0,
        lo=0,
        hi=1000,
        unit="GBP k per school per year",
        kind="lever",
        sweep=(0.5, 10.0),
        sweep_ref="National Strategies of the 2000s: roughly GBP 150-200m a "
        "year over ~20,000 schools, i.e. 7.5-10k a school",
        meaning="The centre's yearly budget for its actions (trials, "
        "brokering, mandates), per school in the system.",
    )
    budget_authority: float = par(
        6.0,
        lo=0,
        hi=1000,
        unit="GBP k per school per year",
        kind="lever",
        sweep=(1.0, 15.0),
        sweep_ref="school improvement spend of an English authority: a "
        "few to fifteen thousand a school (one-line reason)",
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
        ref=DFES_2007,
        meaning="A school's discretionary budget, which practices' running "
        "costs (cost_mean) are shares of: only for reporting "
        "spend_schools in GBP.",
    )
    cost_trial_site: float = par(
        1.0,
        lo=0,
        hi=100,
        unit="GBP k per site-month",
        kind="uncertainty",
        sweep=(0.3, 3.0),
        ref=NEXT_PRACTICE,
        sweep_ref="supply cover, materials and a share of co-designed "
        "evaluation: 4-36k a site-year",
        meaning="Cost to the centre of one field-trial site for a month.",
    )
    cost_broker: float = par(
        2.0,
        lo=0,
        hi=100,
        unit="GBP k per tie",
        kind="uncertainty",
        sweep=(0.5, 6.0),
        ref=NEXT_PRACTICE,
        sweep_ref="a few days of a broker's and two heads' time, up to a funded visit programme",
        meaning="Cost to the centre of brokering one tie.",
    )
    cost_mandate: float = par(
        0.5,
        lo=0,
        hi=100,
        unit="GBP k per school reached",
        kind="uncertainty",
        sweep=(0.1, 2.0),
        sweep_ref="guidance, training days and inspection of take-up per "
        "school, a small share of a strategy's per-school spend",
        meaning="Cost to the centre of administering and inspecting a "
        "mandate in one school it reaches.",
    )
    cost_facilitate: float = par(
        2.0,
        lo=0,
        hi=100,
        unit="GBP k per school per year",
        kind="uncertainty",
        sweep=(0.5, 5.0),
        ref=GIBBONS_2007,
        sweep_ref="an authority adviser's time per school, at full facilitation",
        meaning="Cost to an authority of animating or administering "
        "one school's networks for a year at facilitation 1.",
    )
    cost_capacity: float = par(
        4.0,
        lo=0,
        hi=100,
        unit="GBP k per school per year",
        kind="uncertainty",
        sweep=(1.0, 10.0),
        ref=FULLAN_2006,
        sweep_ref="professional development days per school at a full capacity-building lever",
        meaning="Cost to an authority of full capacity investment in one school for a year.",
    )
    cost_exec_support: float = par(
        20.0,
        lo=0,
        hi=200,
        unit="GBP k per school per year",
        kind="uncertainty",
        sweep=(10.0, 50.0),
        ref=NEXT_PRACTICE,
        sweep_ref="an estimate, of the order of the National "
        "College's NLE deployment and school-to-school "
        "support payments in the 2000s: 10-50k a supported "
        "school a year",
        meaning="Cost to an authority of executive headship support "
        "(rate_exec_support, p_exec_share) for one school "
        "taken on, for a year: the executive head's and "
        "lead school's staff time.",
    )

    # ----------------------------------------------------------------- adversity
    t_budget_cut: int = par(
        -1,
        lo=-1,
        hi=100_000,
        unit="step",
        kind="uncertainty",
        ref=JACKSON_2011,
        sweep=(12, 108),
        sweep_ref="a cut in year 1 to 9; share_budget_cut's range starting at 0 covers no cut",
        meaning="Step at which authorities' budgets are cut (-1: never).",
    )
    share_budget_cut: float = par(
        0.3,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref=JACKSON_2011,
        sweep=(0.0, 0.5),
        sweep_ref="no cut to half; the 2010 spending review cut English "
        "councils' grant 28% in four years",
        meaning="Share of the budget cut.",
    )
    n_authorities_cut: int = par(
        1,
        lo=0,
        hi=1000,
        unit="authorities",
        kind="uncertainty",
        sweep=(0, 4),
        sweep_ref="a cut hits none up to four authorities",
        meaning="How many authorities the cut hits (chosen at random).",
    )
    rel_adversity: float = par(
        3.0,
        lo=0,
        hi=20,
        unit="1 per budget lost",
        kind="uncertainty",
        sweep=(0, 6),
        ref=JACKSON_2011,
        sweep_ref="no burning platform up to twice the default response (seed 001)",
        meaning="Rise in invention and collaboration per unit of budget "
        "lost, times capacity: the burning platform.",
    )

    # ----------------------------------------------------------------- classic diffusion
    # Used only by the reduced modes of sim/rules/classic.py and sim/system/networks.py.
    p_bass: float = par(
        0.03,
        lo=0,
        hi=1,
        unit="1/step",
        kind="uncertainty",
        ref="Bass, Management Science 15:215 (1969)",
        sweep=(0.001, 0.05),
        sweep_ref="Sultan, Farley and Lehmann, J Marketing Res 27:70 (1990): mean p 0.03",
        meaning="Bass coefficient of innovation: chance per step that a "
        "non-adopter adopts from outside influence (adopt: bass).",
    )
    q_bass: float = par(
        0.38,
        lo=0,
        hi=5,
        unit="1/step",
        kind="uncertainty",
        ref="Bass, Management Science 15:215 (1969)",
        sweep=(0.1, 0.6),
        sweep_ref="Sultan, Farley and Lehmann, J Marketing Res 27:70 (1990): mean q 0.38",
        meaning="Bass coefficient of imitation: added chance per step per "
        "share of adopters (global share, or share of neighbours).",
    )
    beta_si: float = par(
        0.2,
        lo=0,
        hi=10,
        unit="1/step",
        kind="uncertainty",
        ref="Kermack & McKendrick (1927); logistic SI model",
        sweep=(0.05, 0.5),
        sweep_ref="half the schools adopt in 6 to 60 steps from one seed on a complete graph",
        meaning="SI transmission rate: on a complete graph di/dt = beta i (1-i); "
        "on a network, rate per infected neighbour (adopt: si).",
    )
    init_adopters: int = par(
        0,
        lo=0,
        hi=100_000,
        unit="schools",
        kind="setting",
        meaning="Seed adopters of practice 0 placed at the first step of a "
        "classic rule (complex: a random school and its neighbours).",
    )
    phi_threshold: float = par(
        0.18,
        lo=0,
        hi=1,
        unit="1",
        kind="uncertainty",
        ref="Watts, PNAS 99:5766 (2002)",
        sweep=(0.1, 0.26),
        sweep_ref="Watts (2002) fig. 1: the cascade window at mean degree 4 to 10",
        meaning="Fractional threshold: a school adopts once this share "
        "of its neighbours has (adopt: threshold).",
    )
    n_threshold: int = par(
        2,
        lo=1,
        hi=100,
        unit="schools",
        kind="uncertainty",
        ref="Centola & Macy, AJS 113:702 (2007)",
        sweep=(1, 4),
        sweep_ref="simple (1) to complex contagion needing up to 4 neighbours "
        "(Centola and Macy 2007)",
        meaning="Absolute threshold: a school adopts once this many of its "
        "neighbours have (adopt: complex).",
    )
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

    # ----------------------------------------------------------------- validation
    # ----------------------------------------------------------------- declared by rules
    declared: dict[str, bool | int | float | str] = par(
        {},
        unit="name: value",
        kind="setting",
        meaning="Values in force of the parameters rules and strategies declare themselves, "
        "keyed <declaring rule or strategy>.<parameter> (e.g. judged.w_agenda, also "
        "read by judged_numpy); set them as top-level keys of that name. Holds those "
        "set and the defaults of the keys the rules and strategy in use read.",
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
                valid = ", ".join(sorted(RULES[slot]) + ["off"])
                raise ValueError(f"unknown rule {name!r} for slot {slot!r}; valid: {valid}")
        return v

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
        return self


def _ensure_builtins() -> None:
    """Register the built-in rules, strategies and networks, so their names can be checked.

    A lazy import: the schema does not depend on the implementations at import
    time, and ``Params(strategy="top_down")`` works without importing the model.
    """
    import sim.model.builtin  # noqa: F401


def resolve_declared(given: dict[str, Any], used: Iterable[Any] | None = None) -> dict[str, Any]:
    """The declared parameters' values in force: those given, checked, and the defaults.

    Args:
        given: ``rule.param`` -> value; every key must be declared by a registered
            rule or strategy (in use or not).
        used: the names of the rules and strategy a run uses: only the defaults of
            the keys they read are filled in (a rule of another process's plug-in is
            not listed). None: every declared key's.

    Raises:
        ValueError: an unknown key (with the valid keys of that rule, or all),
            or a value of the wrong type or out of range (with the range).
    """
    table = declared_params()
    for key, value in given.items():
        spec = table.get(key)
        if spec is None:
            raise ValueError(unknown_declared(key, table))
        why = spec.check(value)
        if why is not None:
            raise ValueError(f"key {key!r} {why}; it means: {spec.meaning}")
    read = None if used is None else keys_read(used)
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
    if name in Params.model_fields:
        if name == "declared":
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

    A key under a registered name that reads the parameter from another key
    (``judged_numpy.w_agenda``: the numpy form reads ``judged.w_agenda``; a
    strategy's ``top_down.rel_trust_brokered``: every strategy reads
    ``centre.rel_trust_brokered``) names that key; else the keys of that
    namespace, or every declared key.
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
    f = Params.model_fields[name] if "." not in name else declared_fields()[name]
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
