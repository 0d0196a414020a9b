"""The model-selection kernel stays full rank with few or ill-scaled particles."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("pyabc")

from pyabc.transition import MultivariateNormalTransition  # noqa: E402

from sim.calibration.transition import FewParticlesTransition  # noqa: E402

#: The "networks" story's seven particles in generation 0 of a model selection that failed
#: with NaN weights (calibrate_ks2_stories.yaml, population 30, repeat 1; 2026-12-06).
STORY = pd.DataFrame(
    [
        [
            0.012183342809819087,
            0.0015793749234476653,
            0.08870441227589848,
            6.877942463835043,
            0.8047825799982049,
            0.1352423140402743,
        ],
        [
            0.027562042031261186,
            0.004547047756396227,
            0.3720853929316564,
            2.751866302594711,
            0.9175333125110432,
            0.03297600640314317,
        ],
        [
            0.014698785460504373,
            0.001092911251968535,
            0.4032229821535409,
            7.264901398859782,
            0.44563052261622554,
            0.13351346638747905,
        ],
        [
            0.04068236674714606,
            0.0034211513160119318,
            0.45980239326599154,
            7.381045036031748,
            0.31560967675226426,
            0.06366896613643115,
        ],
        [
            0.047241322620850144,
            0.0028300752532407635,
            0.07789297796434798,
            6.834269277120945,
            0.33654057747476296,
            0.008719367993304611,
        ],
        [
            0.04008982647737884,
            0.006319661645997949,
            0.3597713271183456,
            7.987913939629556,
            0.9944746291502455,
            0.005204972890965459,
        ],
        [
            0.026660865153630597,
            0.0036463825589561753,
            0.23559669235516978,
            6.886124425027378,
            0.7989037145239154,
            0.14139304178652545,
        ],
    ],
    columns=[
        "build.rate_capacity",
        "build.rate_capacity_decay",
        "mandate.p_mandate",
        "n_focus",
        "practice_effects.rel_capacity_perf",
        "practice_effects.rel_dip",
    ],
)


def _frame(x: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(x, columns=[f"p{i}" for i in range(x.shape[1])])


def _zero_density_share(kernel, n: int = 200) -> float:
    np.random.seed(0)  # noqa: NPY002 (pyabc's kernels draw from numpy's global state)
    return float(np.mean([kernel.pdf(kernel.rvs()) == 0.0 for _ in range(n)]))


def test_pyabcs_kernel_scores_its_own_proposals_zero_on_the_failed_story_and_this_one_not():
    w = np.full(len(STORY), 1.0 / len(STORY))
    plain, few = MultivariateNormalTransition(), FewParticlesTransition()
    plain.fit(STORY, w)
    few.fit(STORY, w)
    assert plain.normal.cov_object.rank == 5  # scipy's cut-off drops one direction
    assert _zero_density_share(plain) > 0.5  # the NaN weights of pyabc issue 614
    assert _zero_density_share(few) == 0.0
    assert few.normal.cov_object.rank == 6
    assert np.allclose(few.cov, np.diag(np.diag(plain.cov)))  # the same spreads


def test_fewer_particles_than_parameters_get_the_diagonal():
    rng = np.random.default_rng(1)
    x = _frame(rng.uniform(size=(3, 6)))  # three particles, six parameters
    w = np.full(3, 1 / 3)
    plain, few = MultivariateNormalTransition(), FewParticlesTransition()
    plain.fit(x, w)
    few.fit(x, w)
    assert plain.normal.cov_object.rank == 2  # proposals stay in the particles' plane
    assert few.normal.cov_object.rank == 6  # they explore every parameter
    assert _zero_density_share(few, 50) == 0.0


@settings(max_examples=30, deadline=None)
@given(st.integers(12, 40), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_a_well_conditioned_kernel_is_pyabcs(n, dim, seed):
    rng = np.random.default_rng(seed)
    x = _frame(rng.uniform(size=(n, dim)))
    w = rng.uniform(0.1, 1.0, n)
    w /= w.sum()
    plain, few = MultivariateNormalTransition(), FewParticlesTransition()
    plain.fit(x, w)
    few.fit(x, w)
    assert plain.normal.cov_object.rank == dim
    np.testing.assert_array_equal(few.cov, plain.cov)
