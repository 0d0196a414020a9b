"""Checks of a whole parameter set: a boolean is not a number, and no silent caps.

Called by the validators of :class:`sim.model.params.Params` (one line each): a set of
values the model could only honour by silently capping one of them is refused
with the reason. Imports nothing of the model, so the schema stays at the bottom
of the layers (:mod:`sim.inputs.checks` holds the command line's checks).
"""

from __future__ import annotations

from typing import Any

#: Networks that read ``z_degree`` (mean degree) and ``k_lattice`` (neighbours each side).
DEGREE_NETWORKS = ("erdos_renyi",)
LATTICE_NETWORKS = ("ring_lattice", "rewired_lattice")
#: The network that places schools in towns and ties them there (``n_towns``, ``n_ties_town``).
TOWN_NETWORKS = ("school_system",)


def no_bool_for_number(annotation: Any, value: Any) -> Any:
    """Refuse ``true``/``false`` where a number is expected (pydantic would read it as 1/0).

    YAML 1.1 readers turned ``yes`` and ``on`` into ``True``, and ``True`` passed as
    the integer 1; a scenario saying ``n_schools: yes`` must not run 1 school.
    """
    if isinstance(value, bool) and annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        raise ValueError(f"expects {kind}, not true/false (yes, on and true are not numbers)")
    return value


def impossible_combinations(p: Any) -> None:
    """Refuse values that contradict each other; the model would otherwise cap them silently.

    Each check mirrors a ``min()`` in the code that builds or runs the model, or a
    quantity it would leave short without a word: ``sim.model.model`` (running
    practices), ``sim.system.structure`` (collaboratives; towns with no school; town
    ties beyond a town's other schools), ``sim.rules.budget_cut`` (authorities cut),
    ``sim.rules.strategies.field_trials`` (trial sites), ``sim.system.networks`` (degree,
    lattice width) and ``sim.rules.classic`` (seed adopters). A rule's declared parameters
    are read from ``p.declared`` (absent: the rule is not in use, nothing to check).

    Raises:
        ValueError: naming both keys, their values and the fix.
    """
    if p.n_running_init > p.n_slots:
        raise ValueError(
            f"n_running_init ({p.n_running_init}) is more than n_slots "
            f"({p.n_slots}): a school cannot run more practices than it has "
            "slots; lower n_running_init or raise n_slots"
        )
    if p.n_running_init > p.n_practices_init:
        raise ValueError(
            f"n_running_init ({p.n_running_init}) is more than n_practices_init "
            f"({p.n_practices_init}): a school cannot run more known practices "
            "than are known; lower n_running_init or raise n_practices_init"
        )
    if p.n_collab_size > p.n_schools:
        raise ValueError(
            f"n_collab_size ({p.n_collab_size}) is more than n_schools "
            f"({p.n_schools}): a collaborative cannot be larger than the system"
        )
    declared = getattr(p, "declared", {})
    cut = declared.get("budget_cut.n_authorities_cut", 0)
    if cut > p.n_authorities:
        raise ValueError(
            f"budget_cut.n_authorities_cut ({cut}) is more than "
            f"n_authorities ({p.n_authorities}); to cut every authority set "
            f"budget_cut.n_authorities_cut: {p.n_authorities}"
        )
    seeds = declared.get("classic.init_adopters", 0)
    if seeds > p.n_schools:
        raise ValueError(
            f"classic.init_adopters ({seeds}) is more than n_schools "
            f"({p.n_schools}); at most every school can adopt at the start"
        )
    if p.network in DEGREE_NETWORKS and p.z_degree > p.n_schools - 1:
        raise ValueError(
            f"z_degree ({p.z_degree:g}) is more than n_schools - 1 "
            f"({p.n_schools - 1}): a school cannot have more ties than there are "
            f"other schools in network {p.network}"
        )
    most = (p.n_schools - 1) // 2
    if p.network in LATTICE_NETWORKS and p.k_lattice > most:
        raise ValueError(
            f"k_lattice ({p.k_lattice}) is more than (n_schools - 1) // 2 "
            f"({most}): a ring of {p.n_schools} schools has at most {most} "
            "neighbours on each side; lower k_lattice or raise n_schools"
        )
    trials = declared.get("field_trials.n_trials", 0)
    if trials > 0 and p.n_trial_sites > p.n_schools:
        raise ValueError(
            f"n_trial_sites ({p.n_trial_sites}) is more than n_schools ({p.n_schools}): "
            "a field trial cannot have more sites than there are schools; lower "
            f"n_trial_sites to at most {p.n_schools}"
        )
    if p.network in TOWN_NETWORKS:
        towns = p.n_authorities * p.n_towns
        if towns > p.n_schools:
            raise ValueError(
                f"n_towns ({p.n_towns}) in each of n_authorities ({p.n_authorities}) make "
                f"{towns} towns, more than n_schools ({p.n_schools}): some towns would have "
                f"no school; lower n_towns to at most {max(1, p.n_schools // p.n_authorities)}"
            )
        others = p.n_schools / towns - 1  # other schools in a town, on average
        if p.n_ties_town > others:
            fits = int(p.n_schools // (p.n_authorities * (p.n_ties_town + 1)))
            fix = (
                f"set n_towns: {fits} or fewer, lower n_ties_town to at most {others:.3g}"
                if fits >= 1
                else f"lower n_ties_town to at most {others:.3g}"
            )
            raise ValueError(
                f"n_ties_town ({p.n_ties_town:g}) is more than a town's other schools: "
                f"{p.n_schools} schools in {towns} towns ({p.n_authorities} authorities x "
                f"n_towns {p.n_towns}) leave {others:.3g} others on average; {fix}, "
                "or raise n_schools"
            )
