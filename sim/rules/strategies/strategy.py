"""What a strategy is (the centre's repertoire), and the ``centre`` slot's rule that runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sim.core.errors import UserError
from sim.core.registry import Rule, register, stream_keys, use_forms
from sim.rules.strategies.best_known import BestKnown
from sim.rules.strategies.brokering import Brokering
from sim.rules.strategies.field_trials import FieldTrials
from sim.rules.strategies.mandate import Mandate
from sim.rules.strategies.monitoring import Monitoring
from sim.rules.strategies.stance import Stance

if TYPE_CHECKING:
    from sim.core.registry import ModelLike


class Strategy(Stance, BestKnown, Mandate, FieldTrials, Brokering, Monitoring):
    """Base class: the centre's repertoire of mechanisms; a strategy picks from it.

    A strategy is a plug-in: a subclass registered by name with
    :func:`sim.core.registry.register_strategy`, picked by ``strategy:`` in a
    scenario or changed live with ``model.set_control("strategy", name)``. Its
    :meth:`act`, called once a step first in the step, must set the
    authorities' stance (:meth:`set_stance`), ``model.agenda`` (a domain, or
    -1) and ``model.mandates`` (``[]`` for none; :meth:`mandate` sets it). It
    acts through the centre's mechanisms, each a class in a file of its own
    beside this one, with its parameters (keyed ``<mechanism>.<param>``) and
    its numpy form beside its kernel:

    * :class:`~sim.rules.strategies.stance.Stance`: the authorities' stance
      and facilitation (``stance.*``);
    * :class:`~sim.rules.strategies.best_known.BestKnown`: the best
      evidenced practice (``best_known``);
    * :class:`~sim.rules.strategies.mandate.Mandate`: mandates (``mandate.*``);
    * :class:`~sim.rules.strategies.field_trials.FieldTrials`: stimulate,
      incubate, conclude (``field_trials.*``);
    * :class:`~sim.rules.strategies.brokering.Brokering`: brokered ties
      (``brokering.*``);
    * :class:`~sim.rules.strategies.monitoring.Monitoring`: national
      monitoring of practices in wide use, which revises what the centre
      backs (``monitoring.*``).

    A strategy never touches performance, draws only from the ``centre``
    slot's stream (the mechanisms do), and holds no state of its own: the
    model may make a new instance at any step (a trainer's change of strategy
    does), and binds it (:meth:`bind`) to the run's choice of forms.

    Attributes:
        name: registered name.
        stance: the authorities' stance under this strategy (administer,
            animate or absent), which sets the facilitation schools find.
    """

    name: ClassVar[str]
    #: How figures and tables name the strategy, and its colour in every figure
    #: (:mod:`sim.core.looks`); a plug-in that declares neither gets its name in words
    #: and a colour of its own.
    label: ClassVar[str | None] = None
    colour: ClassVar[str | None] = None

    #: The value in force of the declared parameter ``name``: :meth:`Rule.value`'s own code.
    value = Rule.value
    #: Copied or pickled without its bound forms, which the copy binds again (as a rule).
    __getstate__ = Rule.__getstate__
    __setstate__ = Rule.__setstate__

    def bind(self, model: ModelLike) -> None:
        """Take the ``centre`` slot's stream, and the compiled kernels or the numpy forms.

        As :meth:`sim.core.registry.Rule.bind` does for a rule (``compiled`` in
        the run's parameters). The model binds the strategy it makes; one never
        bound has no random numbers to draw.
        """
        self._rng = model.rng_for("centre")
        use_forms(self, getattr(model.p, "compiled", True))

    def keys_of(self, decisions: tuple[str, ...]) -> Any:
        """The keys of a mechanism's decisions (rows, in order) on the ``centre`` slot's stream.

        Each mechanism names its decisions after itself (``mandate.reach``), so no
        two share a key (:func:`sim.core.registry.stream_keys`).
        """
        rng = self.__dict__.get("_rng")
        if rng is None:
            raise UserError(
                f"strategy {self.name!r} has no random stream yet: call strategy.bind(model) "
                "(the model binds the strategy it makes)"
            )
        # Remembered for the stream they were made for (the mechanisms ask a few times
        # a step; stream_keys reads the stream's seed sequence and hashes it each call).
        known = self.__dict__.get("_known_keys")
        if known is None or known[0] is not rng:
            known = self.__dict__["_known_keys"] = (rng, {})
        keys = known[1].get(decisions)
        if keys is None:
            keys = known[1][decisions] = stream_keys(rng, decisions)
        return keys

    def act(self, model: ModelLike) -> None:
        """The centre's turn in a step."""
        raise NotImplementedError


@register("centre", "strategy", default=True)
class CentreActs(Rule):
    """The national centre and the authorities act, as the strategy says.

    The strategy in force (``model.strategy``, chosen by ``strategy:``) sets
    the authorities' stance and the agenda, and may mandate, fund field trials
    and broker ties. The rule reads the strategy afresh every step, so a
    trainer's change of strategy or tightness acts from the next step.
    """

    pays = True  # the centre's trials, brokering and mandates; the authorities' facilitation

    def apply(self, model):
        """Let the current strategy act."""
        model.strategy.act(model)
