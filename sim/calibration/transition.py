"""pyabc's multivariate normal kernel, kept full rank when a model has few particles.

In a model selection a story may hold fewer particles than it has parameters (30
particles over three stories of six parameters can leave one story two or three). Their
weighted covariance is then singular, pyabc's kernel gives zero density off the
particles' subspace, the importance weight divides by that zero and the generation's
weights become NaN (pyabc issue 614: "The population total weight nan is not
normalized"). With at most as many particles as parameters this kernel keeps only the
covariance's diagonal (each parameter's own weighted spread, scaled as pyabc scales the
full matrix), which is full rank whenever the particles differ in every parameter. With
more particles it is pyabc's kernel unchanged, so a fit whose population exceeds its
parameters' count is exactly what it was. Imported only when a calibration runs (pyabc
is a heavy import).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats as st
from pyabc.transition import MultivariateNormalTransition


class FewParticlesTransition(MultivariateNormalTransition):
    """Multivariate normal perturbation with a diagonal covariance below d + 1 particles."""

    def fit(self, X: Any, w: np.ndarray) -> None:
        """Fit pyabc's kernel; with 2 to ``dim`` particles keep its covariance's diagonal."""
        super().fit(X, w)
        n, dim = np.shape(X)
        if 1 < n <= dim:
            self.cov = np.diag(np.diag(self.cov))
            self.normal = st.multivariate_normal(cov=self.cov, allow_singular=True)
