"""The model-selection kernel stays full rank with fewer particles than parameters."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("pyabc")

from pyabc.transition import MultivariateNormalTransition  # noqa: E402

from sim.calibration.transition import FewParticlesTransition  # noqa: E402


def _frame(x: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(x, columns=[f"p{i}" for i in range(x.shape[1])])


def test_pyabcs_kernel_gives_zero_density_off_few_particles_and_this_one_does_not():
    rng = np.random.default_rng(1)
    x = _frame(rng.uniform(size=(3, 6)))  # three particles, six parameters
    w = np.full(3, 1 / 3)
    point = pd.Series(rng.uniform(size=6), index=x.columns)
    plain = MultivariateNormalTransition()
    plain.fit(x, w)
    assert plain.pdf(point) == 0.0  # the singular kernel: the NaN weights of pyabc issue 614
    few = FewParticlesTransition()
    few.fit(x, w)
    assert few.pdf(point) > 0.0
    assert np.allclose(few.cov, np.diag(np.diag(plain.cov)))  # the same spreads, no covariances


@settings(max_examples=30, deadline=None)
@given(st.integers(8, 40), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_with_more_particles_than_parameters_it_is_pyabcs_kernel(n, dim, seed):
    rng = np.random.default_rng(seed)
    x = _frame(rng.uniform(size=(n, dim)))
    w = rng.uniform(0.1, 1.0, n)
    w /= w.sum()
    plain, few = MultivariateNormalTransition(), FewParticlesTransition()
    plain.fit(x, w)
    few.fit(x, w)
    np.testing.assert_array_equal(few.cov, plain.cov)
