"""The authorities' stance under a strategy, and the facilitation it gives schools."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sim.core.registry import Param
from sim.core.sources import GIBBONS_2007
from sim.core.state import ABSENT, ADMINISTER, ANIMATE
from sim.system.costs import fund_authorities

if TYPE_CHECKING:
    from sim.core.registry import ModelLike


class Stance:
    """Authorities take the strategy's stance: administer, animate or stand back.

    The stance sets the facilitation every school of the authority finds:
    ``facilitation_administer`` where it administers (top-down transfer),
    ``facilitation_animate`` where it animates (next practice), and
    ``facilitation_absent``, what schools find for themselves, where it stands
    back (seed 000: "the centre animates the system"). Authorities then fund
    facilitation and capacity investment within their budgets
    (:func:`sim.system.costs.fund_authorities`). Facilitation is read by the
    ``hear``, ``ties``, ``collaborate`` and ``implement`` slots. No kernel.
    """

    #: The authorities' stance under this strategy (a subclass sets it).
    stance: ClassVar[int] = ABSENT
    params_namespace: ClassVar[str] = "stance"
    params: ClassVar[dict[str, Param]] = {
        "facilitation_administer": Param(
            0.2,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.05, 0.4),
            sweep_ref="a judgement anchored on seed 000 (from a centre that administers the system "
            "to one that animates it), which gives the direction, not the size: an administering "
            "authority gives little to half of an animating one's facilitation",
            ref=GIBBONS_2007,
            meaning="Facilitation an authority gives when its stance is to administer.",
        ),
        "facilitation_animate": Param(
            0.8,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.3, 1),
            sweep_ref="a judgement: how much facilitation (ties, ownership) animating buys is "
            "not measured; from little more than an administering authority gives (0.2-0.4) "
            "to all of it; seed 000 asserts the direction, not the size",
            ref=GIBBONS_2007,
            meaning="Facilitation an authority gives when its stance is to animate: how "
            "well animation builds ties and ownership (an uncertainty; what the authority "
            "spends on it is cost_facilitate times this).",
        ),
    }

    def set_stance(self, model: ModelLike) -> None:
        """Authorities take this strategy's stance; facilitation follows from it."""
        la, stance = model.authorities, self.stance
        la.stance.fill(stance)
        if stance == ADMINISTER:
            fac = self.value(model, "facilitation_administer")
        elif stance == ANIMATE:
            fac = self.value(model, "facilitation_animate")
        elif stance == ABSENT:
            fac = model.p.facilitation_absent
        else:
            raise KeyError(stance)
        la.facilitation.fill(fac)
        fund_authorities(model)  # facilitation and capacity investment, within budget
