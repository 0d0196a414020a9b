"""The sources parameters and mechanisms cite, written once.

:mod:`sim.model.params` and the rules' own declarations (:class:`sim.core.registry.Param`)
name them in ``ref=``; ``nextpractice params`` prints them beside each parameter.
"""

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
