"""The model: a school system adopting and inventing practices over ties."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.core import draws as _draws
from sim.core import kernels as _kernels
from sim.core.errors import UserError
from sim.core.jit import KernelRng
from sim.core.memory import keep_freed_memory
from sim.core.numerics import row_sum
from sim.core.registry import (
    COHORT_STREAM,
    NETWORKS,
    STRATEGIES,
    STRUCTURE_STREAM,
    declared_params,
    stream_key,
)
from sim.core.state import (
    ABSENT,
    CENTRE,
    CHOSEN,
    PROVEN,
    Authorities,
    Collaboratives,
    Heads,
    KeySet,
    Practices,
    Schools,
    Ties,
    born_uid,
    born_uids,
)
from sim.model import builtin as _builtin  # noqa: F401  (registers the built-in rules, strategies, networks)
from sim.model.params import Params, import_plugins, live_names
from sim.model.plugins import plugin_error
from sim.model.schedule import check_schedule
from sim.rules import build_pipeline
from sim.rules.strategies.field_trials import trial_se
from sim.rules.word_of_mouth import Heard
from sim.system import metrics as _metrics
from sim.system.agents import Authority, Centre, Head, School
from sim.system.costs import Ledger, charge_schools

#: A school's own early plateau is the best it reached in this many months.
EARLY_MONTHS = 24.0
#: ...and it is past it when at least this far above (share of pupils: one point).
PAST_MARGIN = 0.01


@contextlib.contextmanager
def _blaming_plugins(when: str) -> Iterator[None]:
    """Say an error raised in a plug-in's code as the plug-in's (:func:`plugin_error`)."""
    try:
        yield
    except (Exception, SystemExit) as exc:  # a plug-in's sys.exit() is no success either
        blamed = plugin_error(exc, when)
        if blamed is None:
            raise
        raise blamed from None


@functools.lru_cache(maxsize=1024)
def logit_mean_for(share: float, sd: float, small: float = 0.0) -> float:
    """Mean of a logit-normal with spread ``sd`` whose pupils' share at the standard is ``share``.

    Schools with a small cohort sit ``small`` higher, centred over schools
    (``init_perf_small``); their pupils are :data:`sim.system.metrics.SMALL_PUPILS` of
    England's, so the share is pupils over pupils, as England's national result is. With
    ``small`` 0 that is the schools' mean. Solved by bisection over Gauss-Hermite
    quadrature, so a system starts at the mean performance a scenario asks for (e.g. 64.8%
    in 1998). Kept for the next model with the same numbers (0.8 ms a solve; replications
    and benchmarks build many).
    """
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    up = small * (1.0 - _metrics.SMALL_SCHOOLS)  # a small school's shift
    down = -small * _metrics.SMALL_SCHOOLS  # the others'
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if small == 0.0:  # no link: the schools' mean, as it always was
            mean = (w / (1.0 + np.exp(-(mid + sd * x)))).sum()
        else:
            mean = (
                _metrics.SMALL_PUPILS * (w / (1.0 + np.exp(-(mid + up + sd * x)))).sum()
                + (1.0 - _metrics.SMALL_PUPILS) * (w / (1.0 + np.exp(-(mid + down + sd * x)))).sum()
            )
        if mean < share:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _groups(key: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by ``key`` (ascending within a group), and where each group starts and ends."""
    order = np.argsort(key, kind="stable")
    groups = np.arange(n_groups)
    return (
        order,
        np.searchsorted(key[order], groups),
        np.searchsorted(key[order], groups, side="right"),
    )


class _UnkeptLedger(Ledger):
    """The ledger of a run that keeps none: no rule declares it pays, no metric records spend.

    The reduced diffusion modes (``metrics: adoption``, the centre and leadership off)
    then pay nothing a step for money no one reads (:attr:`sim.core.registry.Rule.pays`).
    A rule that asks it for money anyway did not declare it pays: one clear error.
    """

    def _refuse(self, *_: Any) -> Any:
        raise UserError(
            "a rule spent money in a run that keeps no ledger: a rule that spends through "
            "model.ledger must declare `pays = True` in its class (or record spend with "
            "`metrics: full`)"
        )

    centre = authorities = centre_units = _refuse


class NextPracticeModel(mesa.Model):
    """A school system in which practice spreads, deepens, is invented and dropped.

    Build one from a :class:`~sim.model.params.Params` (see
    :func:`sim.model.scenario.load_scenario`) and a seed; call :meth:`step`. All
    randomness comes from named streams derived from the seed ``rng``
    (:meth:`rng_for`): one per slot, each rule drawing only from its own
    (``rule.rng``), and one for the structure builder; same parameters and
    seed, same run, byte for byte. Mesa's ``self.rng`` is left to user code.

    A step is ``dur_step`` months (default one). Its order of events is fixed
    here, once; each slot is one rule of :mod:`sim.rules`, replaceable from a
    scenario (``rules:``):

    1. ``centre``: the strategy acts: authorities' stance, agenda, mandates,
       field trials and their evidence, brokered ties (:mod:`sim.rules.strategies`).
    2. ``hear``: exchanges on ties tell heads of practices their peers run.
    3. ``adopt``: heads judge what they heard on noisy evidence and adopt.
    4. ``invent``: schools invent practice by recombining what they run.
    5. ``implement``: depth closes on ownership times capacity; ownership
       rises with engagement.
    6. ``capacity``: capacity grows with investment and collaboration, decays.
    7. ``perform``: performance closes on what practice and capacity support.
    8. ``review``: schools read their practices' effects; drop poor and
       unaffordable ones.
    9. ``lifecycle``: practices become mainstream or abandoned by use.
    10. ``ties``: facilitated ties form, across authorities too; weak ones lapse.
    11. ``collaborate``: heads found collaboratives; some formalise.
    12. ``lead``: strong heads take on struggling schools as executive heads.
    13. ``turnover``: heads leave and are replaced; informal collaboratives fade.
    14. ``shocks``: scheduled budget cuts.

    Then the metrics of the new state are recorded (:mod:`sim.system.metrics`).

    Attributes:
        p: the parameters in force (live ones change through :meth:`set_control`).
        t: steps done.
        schools, heads, practices, ties, authorities, collabs: the state tables.
        agenda: domain of the national agenda, or -1.
        mandates: practices under a standing mandate.
        heard: what schools heard this step (written by ``hear``).
    """

    def __init__(
        self, params: Params | None = None, rng: int | None = None, **overrides: Any
    ) -> None:
        """Build the system.

        Args:
            params: parameters; defaults if omitted.
            rng: seed of the model's generator.
            **overrides: parameter values to change from ``params``.
        """
        super().__init__(rng=rng)
        keep_freed_memory()  # a step's large temporaries are reused, not faulted in again
        base = params if params is not None else Params()
        self.p = base.model_copy(update=overrides) if overrides else base.model_copy()
        if overrides:
            self.p = Params.model_validate(self.p.model_dump())
        # set_control writes it: a copy, not the caller's (set without re-validating all)
        self.p.__dict__["declared"] = dict(self.p.declared)
        self.t = 0
        self.seed = rng
        self._kernel_rng: KernelRng | None = None
        # The root of every named stream: the seed, or (no seed) a number from Mesa's generator.
        self._entropy = (
            int(rng) if isinstance(rng, int | np.integer) else int(self.rng.integers(2**63))
        )
        self._streams: dict[str, tuple[np.random.Generator, KernelRng]] = {}
        #: Births so far this step, by table: (step, place -> count), for :meth:`born`.
        self._births: dict[str, tuple[int, dict[int, int]]] = {}
        import_plugins(self.p.plugins)  # a worker process unpickles params without validating
        with _blaming_plugins("while the model was built"):
            self._pipeline = build_pipeline(self.p.rules)
            for rule in self._pipeline:
                rule.bind(self)
            self.strategy = STRATEGIES[self.p.strategy]()
            self.strategy.bind(self)
        self.agenda = -1
        self.mandates: list[int] = []
        self.heard = Heard.none()
        self.counts = dict.fromkeys(_metrics.COUNTS, 0)
        #: What rules report of the last step for observers (validation, the app):
        #: name -> value, cleared at the start of each step. SystemLeadership
        #: writes ``takeovers``: (schools taken on, equally weak schools not);
        #: :meth:`note` writes lists of records (mandates, trials, cuts, controls).
        self.events: dict[str, Any] = {}
        self._noted_between: dict[str, list[dict[str, Any]]] = {}  # notes made between steps
        self._stepping = False
        with _blaming_plugins("while the model was built"):
            self._build()
        #: Schools whose heads' own choices are made by people, not by the rules (the
        #: workshop's room): see :meth:`hold`. None held unless asked.
        self.held = np.zeros(self.schools.n, bool)
        self.perf0 = self.schools.perf.copy()
        # Each school's best performance in its first EARLY_MONTHS (its own early plateau).
        self.perf_early = self.perf0.copy()
        self.weakest0 = np.argsort(self.perf0, kind="stable")[: max(1, self.schools.n // 10)]
        self._rows: list[dict[str, float]] = []
        self._adoption: list[tuple[int, np.ndarray]] = []  # (step, users) per step
        #: The scenario's schedule by step (sim.model.schedule): applied in :meth:`step`.
        self._schedule = check_schedule(self.p.schedule, self.p.start_year, self.p.dur_step)
        self._record()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        p, rng = self.p, self.rng_for(STRUCTURE_STREAM)
        st = NETWORKS[p.network](p, rng)
        n = len(st.authority)
        s = Schools.empty(n, p.n_slots)
        s.authority[:] = st.authority
        s.town[:] = st.town
        s.phase[:] = st.phase
        # Each school's KS2 cohort, from England's sizes, from a stream of its own; schools
        # with a small cohort start init_perf_small higher, centred over England's schools,
        # and the start's mean is England's kind, pupils over pupils (docs/decisions.md).
        s.cohort[:] = self.rng_for(COHORT_STREAM).choice(
            _metrics.ALL_SIZES, size=n, p=_metrics.ALL_WEIGHTS
        )
        small = p.init_perf_small * ((s.cohort <= _metrics.SMALL_COHORT) - _metrics.SMALL_SCHOOLS)
        s.logit_perf[:] = (
            rng.normal(
                logit_mean_for(p.init_perf_mean, p.sd_perf_init, p.init_perf_small),
                p.sd_perf_init,
                n,
            )
            + small
        )
        z_perf = (s.logit_perf - s.logit_perf.mean()) / max(s.logit_perf.std(), 1e-12)
        rho = p.rho_capacity_perf
        z = rho * z_perf + np.sqrt(1.0 - rho**2) * rng.standard_normal(n)
        s.capacity[:] = np.clip(p.init_capacity_mean + p.init_capacity_sd * z, 0.02, 1.0)
        s.capacity0[:] = s.capacity
        self.schools = s

        self.heads = Heads.empty()
        self._head_agents: dict[int, Head] = {}
        self._heads_synced = 0  # heads below this index have had their agents made
        self._heads_retired: list[int] = []  # retired since the agents were last synced
        s.head[:] = self.new_heads(n, rng, uid=born_uid(-1, np.arange(n)))

        # Practices known at the start: today's good practice, with evidence
        # as precise as one completed field trial would give.
        k = p.n_practices_init
        sd_ev = trial_se(
            p.sd_trial,
            p.n_trial_sites,
            p.declared.get("field_trials.n_pupils_site", 41),
            p.dur_trial,
            p.init_perf_mean,
        )
        effect = rng.normal(p.mean_effect_init, p.sd_effect_init, k)
        self.practices = Practices.empty()
        self.practices.append(
            effect=effect,
            cost=rng.exponential(p.cost_mean, k),
            difficulty=rng.beta(2.0, 2.0, k),
            domain=rng.integers(0, p.n_domains, k),
            origin=np.full(k, CENTRE),
            stage=np.full(k, PROVEN),
            born=np.full(k, -1),
            ev_mean=effect + rng.normal(0.0, sd_ev, k),
            ev_prec=np.full(k, 1.0 / sd_ev**2),
            uid=born_uid(-1, np.arange(k)),
        )
        self.n_practices_init = k
        # The status quo: each school runs a few known practices, to depth init_depth.
        r = min(p.n_running_init, k, p.n_slots)
        if r:
            picks = np.argsort(rng.random((n, k)), axis=1)[:, :r]
            s.slot_p[:, :r] = picks
            s.slot_depth[:, :r] = p.init_depth
            s.slot_own[:, :r] = p.init_own_chosen
            s.slot_channel[:, :r] = CHOSEN
            s.slot_since[:, :r] = -round(p.dur_commit / p.dur_step) - 1
        # Base: the performance the school would have without its practices, as the
        # perform rule combines them (its base_for), so that step 0 starts where drawn.
        perform = next((r for r in self._pipeline if r.slot == "perform"), None)
        if perform is not None and hasattr(perform, "base_for"):
            s.base[:] = perform.base_for(self)
        else:
            s.base[:] = s.logit_perf - (
                self.practices.effect[np.maximum(s.slot_p, 0)] * s.slot_depth
            ).sum(axis=1)

        self.ties = Ties.empty()
        m = len(st.tie_a)
        self.ties.append(
            a=st.tie_a,
            b=st.tie_b,
            kind=st.tie_kind,
            trust=np.full(m, p.init_trust),
            alive=np.ones(m, bool),
            formal=np.zeros(m, bool),
        )
        self.tie_keys = KeySet(st.tie_a * n + st.tie_b)  # pairs tied: lo * n + hi

        self.collabs = Collaboratives.empty()
        n_c = len(st.collab_formal)
        if n_c:
            first = np.full(n_c, -1, np.int64)
            member = np.flatnonzero(st.collab >= 0)
            first[st.collab[member][::-1]] = member[::-1]
            self.collabs.append(
                founder=s.head[first],
                formal=st.collab_formal,
                alive=np.ones(n_c, bool),
                born=np.zeros(n_c),
                uid=born_uid(-1, first),
            )
            s.collab[:] = st.collab
            formal_c = st.collab_formal[np.maximum(st.collab, 0)] & (st.collab >= 0)
            t = self.ties
            both = (s.collab[t.a[:m]] == s.collab[t.b[:m]]) & formal_c[t.a[:m]]
            t.formal[:m] = both

        n_la = st.n_authorities
        self.authorities = Authorities(
            budget=np.ones(n_la),
            stance=np.full(n_la, ABSENT),
            facilitation=np.full(n_la, p.facilitation_absent),
        )
        self._by_authority, self._la_start, self._la_end = _groups(s.authority, n_la)
        # Money: allowances, spending and shortfall by payer (sim.system.costs), kept
        # when a rule spends or the metrics record spend; else nothing pays for it.
        self._keeps_ledger = p.metrics != "adoption" or any(r.pays for r in self._pipeline)
        self.ledger = Ledger(n_la) if self._keeps_ledger else _UnkeptLedger(n_la)
        self.capacity_funded = np.ones(n_la)
        self._by_town, self._town_start, self._town_end = _groups(s.town, int(s.town.max()) + 1)

        # The Mesa agents, the readable face of the arrays, are made when first read.
        self._fixed_agents: tuple[list[School], list[Authority], Centre] | None = None

    def new_heads(self, k: int, rng: np.random.Generator, uid: np.ndarray) -> np.ndarray:
        """Appoint ``k`` new heads with traits drawn from ``rng``, in order (the first heads).

        Openness and appetite are Beta distributed (most heads moderately
        open; a minority with strong appetite for system leadership);
        ingenuity is log-normal with mean 1 (parameters ``head_openness_a``
        and ``_b``, ``sd_head_ingenuity``, ``head_appetite_a`` and ``_b``).
        The first heads draw from the structure stream; heads appointed during
        a run draw keyed numbers (:meth:`appoint_heads`).
        """
        p = self.p
        sd = p.sd_head_ingenuity
        return self.heads.append(
            openness=rng.beta(p.head_openness_a, p.head_openness_b, k),
            ingenuity=rng.lognormal(-0.5 * sd * sd, sd, k),
            appetite=rng.beta(p.head_appetite_a, p.head_appetite_b, k),
            start=self.t,
            active=True,
            uid=uid,
        )

    def appoint_heads(self, schools: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """A new head for each of ``schools`` this step; returns their indices.

        Traits as :meth:`new_heads` gives the first heads, each drawn keyed by
        the new head's identifier (its school and this step, :meth:`born`):
        ``keys`` are those of the decisions openness, ingenuity and appetite
        (rows 0 to 2), the appointing rule's.
        """
        p, t = self.p, self.t
        uid = self.born("heads", schools)
        sd = p.sd_head_ingenuity
        openness, ingenuity, appetite = _kernels.head_traits(  # the three draws in one call
            keys,
            t,
            uid,
            p.head_openness_a,
            p.head_openness_b,
            -0.5 * sd * sd,
            sd,
            p.head_appetite_a,
            p.head_appetite_b,
        )
        return self.heads.append(
            openness=openness,
            ingenuity=ingenuity,
            appetite=appetite,
            start=t,
            active=True,
            uid=uid,
        )

    def born(self, table: str, places: np.ndarray) -> np.ndarray:
        """Identifiers of entities of ``table`` born this step at ``places`` (schools), in order.

        :func:`sim.core.state.born_uids` of this step: each place and its rank among
        the births of ``table`` there this step (0 for the first).
        """
        places = np.asarray(places, np.int64)
        step, counts = self._births.get(table, (None, {}))
        if step != self.t:
            counts = {}
            self._births[table] = (self.t, counts)
        return born_uids(self.t, places, counts)

    def retire_heads(self, idx: np.ndarray) -> None:
        """Heads leave post; their Mesa agents go when the agents are next read."""
        self.heads.active[idx] = False
        self._heads_retired.extend(np.asarray(idx).tolist())

    # ------------------------------------------------------------------ Mesa agents
    # Making a Mesa agent costs microseconds (Mesa registers it and signals its
    # creation): a tenth of a 1,000-school run for the schools alone, and heads
    # come and go every month (about 260 a month in England). So the agents
    # follow the arrays lazily: the schools', authorities' and centre's are
    # made when any agent is first read (``agents``, ``agents_by_type``,
    # ``school_agents``, ``head_agents``...), in that order and before any
    # head's, so their ``unique_id`` numbers are as if made at construction;
    # heads' agents are made and removed whenever the agents are read, never
    # during a run that nobody looks at. What anyone reading them sees is the
    # same; only the heads' ``unique_id`` numbers depend on when they were
    # first read (``Head.idx`` does not).
    def _sync_agents(self) -> None:
        """Make the fixed agents if not yet made; those of heads appointed; remove the retired."""
        if "_heads_synced" not in self.__dict__:  # Mesa reading agents during __init__
            return
        if self._fixed_agents is None:
            self._fixed_agents = (
                [School(self, i) for i in range(self.schools.n)],
                [Authority(self, i) for i in range(self.authorities.n)],
                Centre(self),
            )
        agents, h = self._head_agents, self.heads
        for i in self._heads_retired:
            agent = agents.pop(i, None)
            if agent is not None:
                agent.remove()
        self._heads_retired.clear()
        for i in np.flatnonzero(h.active[self._heads_synced : h.n]).tolist():
            i += self._heads_synced
            agents[i] = Head(self, i)
        self._heads_synced = h.n

    @property
    def school_agents(self) -> list[School]:
        """The Mesa agent of each school, by school index."""
        self._sync_agents()
        return self._fixed_agents[0]

    @property
    def authority_agents(self) -> list[Authority]:
        """The Mesa agent of each local authority, by authority index."""
        self._sync_agents()
        return self._fixed_agents[1]

    @property
    def centre(self) -> Centre:
        """The Mesa agent of the national centre."""
        self._sync_agents()
        return self._fixed_agents[2]

    @property
    def head_agents(self) -> dict[int, Head]:
        """The Mesa agent of each head in post, by head index."""
        self._sync_agents()
        return self._head_agents

    @property
    def agents(self):
        """Every Mesa agent of the model (Mesa's registry, heads brought up to date)."""
        self._sync_agents()
        return super().agents

    @property
    def agents_by_type(self):
        """Mesa's agents by type, heads brought up to date."""
        self._sync_agents()
        return super().agents_by_type

    def remove_all_agents(self) -> None:
        """Remove every Mesa agent, those not yet made included (heads appointed, and the rest)."""
        self._sync_agents()  # the fixed agents' lists stay, of agents removed, as Mesa leaves them
        self._heads_synced = self.heads.n
        self._heads_retired.clear()
        self._head_agents.clear()
        super().remove_all_agents()

    @property
    def agent_types(self) -> list[type]:
        """The types of Mesa agent in the model, heads brought up to date."""
        self._sync_agents()
        return super().agent_types

    # ------------------------------------------------------------------ derived state
    def per_step(self, rate: float) -> float:
        """Chance per step of an event with chance ``rate`` per month."""
        return 1.0 - (1.0 - min(max(rate, 0.0), 1.0)) ** self.p.dur_step

    @property
    def plain_monthly(self) -> bool:
        """Whether a rule may do ``occurs``, ``per_step_array`` and ``school_facilitation`` itself.

        That is, inside one compiled call of its own. True at one-month steps when all
        three are this class's, as they stand here. A subclass that changes one, or a view
        that stands in for the model (the workshop room's acting view names a
        participant's school through ``occurs``, and says so by setting this False), makes
        the shipped rules ask for them one by one.
        """
        cls = type(self)
        return (
            self.p.dur_step == 1.0
            and cls.occurs is NextPracticeModel.occurs
            and cls.per_step_array is NextPracticeModel.per_step_array
            and cls.school_facilitation is NextPracticeModel.school_facilitation
        )

    @property
    def plain_slot_effect(self) -> bool:
        """Whether :meth:`slot_effect` is this class's, as it stands here.

        Then a rule may apply the scale-up fade itself, slot by slot inside its own
        compiled call (``review``'s reads, :meth:`sim.rules.evidence_review.Review.read_faded`),
        rather than ask for the table; a subclass that changes it is asked.
        """
        return type(self).slot_effect is NextPracticeModel.slot_effect

    @property
    def plain_coherence(self) -> bool:
        """Whether :meth:`coherence` is this class's, as it stands here.

        Then a rule may sum each school's coherence itself inside its own compiled call
        (:meth:`sim.rules.practice_effects.Performance.perform_faded`); a subclass that
        changes it is asked.
        """
        return type(self).coherence is NextPracticeModel.coherence

    def per_step_array(self, rate: np.ndarray) -> np.ndarray:
        """:meth:`per_step` for an array of monthly chances.

        At monthly steps the power is 1, and ``x ** 1.0`` is ``x``: then one
        compiled pass gives the same numbers (:func:`sim.core.kernels.monthly_chance`).
        """
        if self.p.dur_step == 1.0:
            return _kernels.monthly_chance(np.asarray(rate, np.float64))
        return 1.0 - (1.0 - np.clip(rate, 0.0, 1.0)) ** self.p.dur_step

    def occurs(
        self, rate: np.ndarray, rng: Any = None, ids: np.ndarray | None = None
    ) -> np.ndarray:
        """Which of these events, each of monthly chance ``rate[i]``, happen this step.

        Returns their indices, ascending. With a key (a rule's
        ``self.key(name)``, :mod:`sim.core.draws`), event ``i`` happens when the
        keyed uniform of entity ``ids[i]`` (default ``i``: a school's index) at
        this step falls below its chance per step: the same event meets the
        same number in any run. Otherwise one uniform each in order from
        ``rng``, a :class:`~sim.core.jit.KernelRng` (without one, Mesa's
        generator, for user code): ``np.flatnonzero(rng.random(n) <
        per_step_array(rate))``. At monthly steps either is one compiled pass
        (:func:`sim.core.kernels.keyed_events`, :func:`sim.core.kernels.monthly_events`).
        """
        rate = np.asarray(rate, np.float64)
        if isinstance(rng, np.ndarray):
            ids = np.arange(len(rate)) if ids is None else np.asarray(ids, np.int64)
            if self.p.dur_step == 1.0:
                return _kernels.keyed_events(rng, self.t, rate, ids)
            chance = self.per_step_array(rate)
            return np.flatnonzero(_draws.uniform(rng, self.t, ids, 0) < chance)
        rng = self.kernel_rng if rng is None else rng
        if self.p.dur_step == 1.0:
            return _kernels.monthly_events(rng, rate)
        return np.flatnonzero(rng.generator.random(len(rate)) < self.per_step_array(rate))

    @property
    def sd_observe_eff(self) -> float:
        """Noise of a school's monthly read of a practice, after the evidence lever."""
        return self.p.sd_observe * (1.0 - self.p.rel_evidence_observe * self.p.lever_evidence)

    def _stream(self, name: str) -> tuple[np.random.Generator, KernelRng]:
        got = self._streams.get(name)
        if got is None:
            seq = np.random.SeedSequence(self._entropy, spawn_key=(stream_key(name),))
            gen = np.random.Generator(np.random.PCG64(seq))
            got = self._streams[name] = (gen, KernelRng(gen))
        return got

    def rng_for(self, name: str) -> np.random.Generator:
        """The generator of the random stream ``name``: a slot's, or ``structure``.

        Derived from the run's seed and the name alone (numpy ``SeedSequence``
        with spawn key :func:`sim.core.registry.stream_key`), so what one slot
        draws never moves another's: swapping or switching off a rule leaves
        every other rule's draws as they were. Made on first use, then kept.
        """
        return self._stream(name)[0]

    def kernel_rng_for(self, name: str) -> KernelRng:
        """The stream ``name`` as compiled kernels take it (:class:`sim.core.jit.KernelRng`)."""
        return self._stream(name)[1]

    def streams(self) -> dict[str, np.random.Generator]:
        """Every named stream made so far, by name (e.g. to count the draws of a step)."""
        return {name: gen for name, (gen, _) in self._streams.items()}

    @property
    def kernel_rng(self) -> KernelRng:
        """Mesa's generator (``self.rng``) as compiled kernels take it, for user code.

        The shipped rules never draw from it: each draws from its slot's
        stream (:meth:`rng_for`). Hand this, not ``self.rng``, to a kernel
        that draws (see :class:`sim.core.jit.KernelRng`: it is passed in a ninth
        of the time).
        """
        if self._kernel_rng is None or self._kernel_rng.generator is not self.rng:
            self._kernel_rng = KernelRng(self.rng)
        return self._kernel_rng

    def alive_ties(self) -> np.ndarray:
        """Indices of ties in force."""
        return self.ties.alive_index()

    def school_facilitation(self) -> np.ndarray:
        """Facilitation each school finds: its authority's, per the stance."""
        return self.authorities.facilitation[self.schools.authority]

    def engagement(self) -> np.ndarray:
        """Each school's engagement, 0 to 1.

        Mean trust on its ties times the facilitation it finds, plus
        ``rel_engagement_collab`` (0.2) for a collaborative member.
        """
        s, t = self.schools, self.ties
        return _kernels.tie_engagement(
            t.a[: t.n],
            t.b[: t.n],
            t.alive[: t.n],
            t.trust[: t.n],
            s.n,
            self.school_facilitation(),
            s.collab,
            self.p.rel_engagement_collab,
        )

    def coherence(self) -> np.ndarray:
        """Each school's coherence: how concentrated its depth is in one domain.

        ``(top share - 1/D) / (1 - 1/D)`` over the school's depth by domain;
        0 for an even spread or no practice, 1 for a single domain.
        """
        s, pr, D = self.schools, self.practices, self.p.n_domains
        if D == 1:
            return (row_sum(s.slot_depth) > 0).astype(float)
        return _kernels.domain_coherence(s.slot_p, s.slot_depth, pr.domain, D)

    def slot_effect(self) -> np.ndarray:
        """Each school's practices' true effects where it runs them (schools x slots).

        A practice's effect is against business as usual (the school not running it),
        at full depth. A practice invented during the run keeps all of it only where
        it was made: its inventor and its field-trial sites (channel created); anywhere
        else it keeps ``rel_effect_spread`` of it (the scale-up fade). Practices known
        at the start keep theirs everywhere. Empty slots read the first practice's.
        """
        s, pr = self.schools, self.practices
        return _kernels.slot_effects(
            s.slot_p, s.slot_channel, pr.effect, pr.born, float(self.p.rel_effect_spread)
        )

    def room(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Implementation load each school can carry in depth.

        Capacity times ``n_focus`` practices of difficulty ``difficulty_focus`` (0.5).
        With ``rows``, only those schools' (same values, computed for them alone).
        """
        capacity = self.schools.capacity if rows is None else self.schools.capacity[rows]
        return capacity * self.p.n_focus * self.p.difficulty_focus

    def load(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Implementation load each school carries: the sum of its practices' difficulty.

        With ``rows``, only those schools' (same values, computed for them alone).
        """
        sp = self.schools.slot_p if rows is None else self.schools.slot_p[rows]
        return _kernels.slot_sum(sp, self.practices.difficulty)

    def spare_capacity(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Room minus load: negative when a school runs more than it can carry.

        With ``rows``, only those schools' (same values, computed for them alone).
        """
        return self.room(rows) - self.load(rows)

    def pressure(self) -> np.ndarray:
        """Adversity each school feels: budget lost times capacity (seed 001)."""
        s = self.schools
        return np.maximum(0.0, 1.0 - s.budget) * s.capacity

    def past_plateau(self, perf: np.ndarray | None = None) -> float:
        """Share of schools past their own early plateau (nan until EARLY_MONTHS have passed).

        A school is past it when its performance is at least ``PAST_MARGIN`` above the
        best it reached in its first ``EARLY_MONTHS``: the top-down rise of the plateau
        effect is over by then (seed 003: the literacy rise to about 2000). ``perf``: the
        schools' performance if already computed (``schools.perf``). The share is the
        count over the schools, which is ``np.mean`` of the booleans to the bit (a sum of
        ones is exact, and both divide two exact doubles once), counted in one compiled
        pass (:func:`sim.core.kernels.share_above`).
        """
        if self.t * self.p.dur_step < EARLY_MONTHS:
            return float("nan")
        perf = self.schools.perf if perf is None else perf
        if not len(perf):
            return float("nan")
        return _kernels.share_above(perf, self.perf_early, PAST_MARGIN)

    def users(self) -> np.ndarray:
        """Number of schools running each practice."""
        return _kernels.practice_users(self.schools.slot_p, self.practices.n)

    def authority_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Schools sorted by authority, and where each authority's run starts and ends.

        Authority ``a``'s schools are ``order[start[a]:end[a]]`` (for compiled loops
        that walk them; :meth:`schools_in_authority` gives one authority's).
        """
        return self._by_authority, self._la_start, self._la_end

    def town_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Schools sorted by town, and where each town's run starts and ends.

        As :meth:`authority_index` does for authorities.
        """
        return self._by_town, self._town_start, self._town_end

    def schools_in_authority(self, authority: int) -> np.ndarray:
        """The schools of one authority, ascending."""
        return self._by_authority[self._la_start[authority] : self._la_end[authority]]

    def schools_in_town(self, town: int) -> np.ndarray:
        """The schools of one town, ascending."""
        return self._by_town[self._town_start[town] : self._town_end[town]]

    # ------------------------------------------------------------------ live controls
    def set_control(self, name: str, value: Any) -> None:
        """Change a live parameter (strategy, tightness, levers) during a run.

        Acts from the next step. Raises :class:`~sim.core.errors.UserError` for a
        parameter that cannot change live or a value out of range.
        """
        live = live_names()
        if name not in live:
            raise UserError(
                f"{name!r} cannot change during a run; live controls: {', '.join(live)}"
            )
        if "." in name:  # a rule's or strategy's declared parameter
            spec = declared_params()[name]
            why = spec.check(value)
            if why is not None:
                raise UserError(f"bad value for {name}: {why}")
            value = float(value) if spec.type is float else value  # as resolve_declared does
            old = self.p.declared.get(name)
            self.p.declared[name] = value
            if old != value:
                self.note("control", name=name, old=old, new=value)
            return
        old = getattr(self.p, name)
        try:
            setattr(self.p, name, value)
        except Exception as exc:  # pydantic's ValidationError
            raise UserError(f"bad value for {name}: {exc}") from None
        if old != value:
            self.note("control", name=name, old=old, new=value)
        if name == "strategy":
            self.strategy = STRATEGIES[value]()
            self.strategy.bind(self)

    def budget_cut(self, authority: int, share: float | None = None) -> None:
        """Cut one authority's budget by ``share`` (default ``share_budget_cut``)."""
        if not 0 <= authority < self.authorities.n:
            raise UserError(f"authority must be 0 to {self.authorities.n - 1}, not {authority}")
        share = self.p.share_budget_cut if share is None else share
        self.authorities.budget[authority] *= 1.0 - share
        s = self.schools
        mine = s.authority == authority
        s.budget[mine] = self.authorities.budget[authority]
        self.note(
            "budget_cut", authority=int(authority), share=float(share), schools=int(mine.sum())
        )

    def hold(self, schools: Any) -> None:
        """Let people make these schools' heads' own choices, from the next step on.

        The workshop's room: a participant plays the head of a school and
        chooses for it between steps, through the same actions the rules use
        (:mod:`sim.rules.actions`). While a step runs, the rules then make no
        choice of that head's own for a held school: no take-up of practice it
        heard of, no drop, no invention (:func:`sim.rules.actions.decided_by_rules`
        gates those actions), and its head founds no collaborative and takes on
        no school (its appetite for system leadership counts as nil for the
        step, :meth:`_hold_appetite`). What others decide still reaches it: the
        centre's mandates and field-trial sites, a collaborative founded
        nearby, an executive head, turnover. No random number is drawn
        differently for the others: each rule draws as it always does and the
        held school's outcome is set aside. ``hold([])`` lets the rules decide
        for every school again.

        Raises:
            UserError: a school index out of range.
        """
        idx = np.asarray(schools, np.int64).reshape(-1)
        if len(idx) and (idx.min() < 0 or idx.max() >= self.schools.n):
            raise UserError(f"schools to hold must be 0 to {self.schools.n - 1}")
        held = np.zeros(self.schools.n, bool)
        held[idx] = True
        self.held = held

    @property
    def in_step(self) -> bool:
        """Whether a step's rules are running (choices made now are the rules')."""
        return self._stepping

    def _hold_appetite(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Set held schools' heads' appetite to nil for the step; return what to put back.

        Founding a collaborative and taking on a school are the only rule
        choices a head's appetite for system leadership drives; a participant
        makes them instead. Put back after the step (heads keep their indices).
        """
        if not self.held.any():
            return None
        heads = np.unique(self.schools.head[self.held])
        saved = self.heads.appetite[heads].copy()
        self.heads.appetite[heads] = 0.0
        return heads, saved

    def note(self, kind: str, **fields: Any) -> None:
        """Report something that happened, for observers such as the app's narration.

        Appends ``{"step": t, **fields}`` to the list ``events[kind]``, where
        ``t`` is the step in which it acts (steps done before it). A note made
        between steps (a trainer's control, a budget cut) is kept with the
        events of the next step, since it acts from that step. Notes change
        no state and draw no random number: a run is the same observed or not.
        """
        record = {"step": self.t, **fields}
        target = self.events if self._stepping else self._noted_between
        target.setdefault(kind, []).append(record)

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """Advance one step: the rules in the order listed in the class docstring.

        First, the changes the scenario's ``schedule`` names for this step are made,
        as a trainer's are (:meth:`set_control`; :mod:`sim.model.schedule`).
        """
        for name, value in self._schedule.get(self.t, ()):
            self.set_control(name, value)
        self.counts = dict.fromkeys(_metrics.COUNTS, 0)
        self.events, self._noted_between = self._noted_between, {}
        if self._keeps_ledger:
            self.ledger.accrue(self)
        self._stepping = True
        appetite = self._hold_appetite()
        when = f"at step {self.t + 1}"  # the step as it starts, should a rule change t
        try:
            try:  # _blaming_plugins, written out: no context manager to enter every step
                for rule in self._pipeline:
                    rule.apply(self)
                if self._keeps_ledger:
                    charge_schools(self)
            except (Exception, SystemExit) as exc:
                blamed = plugin_error(exc, when)
                if blamed is None:
                    raise
                raise blamed from None
        finally:
            self._stepping = False
            if appetite is not None:
                self.heads.appetite[appetite[0]] = appetite[1]
        self.t += 1
        self._record()  # each school's early best too, in the first EARLY_MONTHS

    def run(self, steps: int | None = None) -> NextPracticeModel:
        """Run ``steps`` steps (default ``n_steps``); returns the model."""
        for _ in range(self.p.n_steps if steps is None else steps):
            self.step()
        return self

    def _record(self) -> None:
        """Keep each school's best in its first EARLY_MONTHS, and the step's metrics row.

        Performance is computed once for both (an exponential of every school's logit);
        at the start the best is the performance itself, so the update changes nothing.
        """
        users = self.users()  # a fresh array each step, kept as it is
        early = self.t * self.p.dur_step <= EARLY_MONTHS
        perf = self.schools.perf if early or self.p.metrics != "adoption" else None
        if early:
            np.maximum(self.perf_early, perf, out=self.perf_early)
        self._rows.append(_metrics.collect(self, users, perf))
        self._adoption.append((self.t, users))

    def metrics_frame(self) -> pd.DataFrame:
        """Metrics per step: one row per step, ``step`` first (see sim.system.metrics).

        The columns are those of the metric set in force (``metrics``).
        """
        return pd.DataFrame(self._rows, columns=list(_metrics.SETS[self.p.metrics]))

    def adoption_frame(self) -> pd.DataFrame:
        """Adoption curves: schools running each practice at each step (long format)."""
        if not self._adoption:
            return pd.DataFrame(columns=["step", "practice", "schools"])
        # One row per step and practice in use: a (steps, practices) table, padded
        # with zeros for practices not yet invented, read off where non-zero.
        k = max(len(u) for _, u in self._adoption)
        table = np.zeros((len(self._adoption), k), np.int64)
        for r, (_, u) in enumerate(self._adoption):
            table[r, : len(u)] = u
        row, pid = np.nonzero(table)
        step = np.array([t for t, _ in self._adoption])[row]
        return pd.DataFrame({"step": step, "practice": pid, "schools": table[row, pid]})

    def practices_frame(self) -> pd.DataFrame:
        """Every practice ever known with its attributes (true effect included)."""
        pr = self.practices
        cols = [
            "effect",
            "cost",
            "difficulty",
            "domain",
            "origin",
            "stage",
            "born",
            "parent",
            "inventor",
            "ev_mean",
            "ev_prec",
        ]
        df = pd.DataFrame({c: getattr(pr, c)[: pr.n] for c in cols})
        df.insert(0, "practice", np.arange(pr.n))
        return df
