"""pyabc's multivariate normal kernel, kept full rank when its particles are too few.

In a model selection a story may hold few particles (30 particles over three stories of
six parameters leave some stories seven or fewer). Their weighted covariance is then
singular, or so ill-conditioned (parameters on scales from 0.001 to 8) that scipy's
``multivariate_normal`` treats it as singular: an eigenvalue below its cut-off is taken
as zero. pyabc draws a proposal with the full covariance but scores it with scipy's
density, which is zero off the reduced subspace; the importance weight divides by that
zero and the generation's weights become NaN (pyabc issue 614: "The population total
weight nan is not normalized"). Measured on a story's seven particles of a failed run
(``tests/test_transition.py``): scipy's rank 5 of 6, and 168 of 200 of the kernel's own
proposals scored zero. When scipy's rank of the covariance is below the number of
parameters, this kernel keeps only the diagonal (each parameter's own weighted spread,
scaled as pyabc scales the full matrix), which is full rank whenever the particles differ
in every parameter. Otherwise it is pyabc's kernel unchanged, so a fit whose kernel was
well conditioned is exactly what it was. Imported only when a calibration runs (pyabc is
a heavy import).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats as st
from pyabc.transition import MultivariateNormalTransition


class FewParticlesTransition(MultivariateNormalTransition):
    """Multivariate normal perturbation, diagonal where the full covariance is rank-deficient."""

    def fit(self, X: Any, w: np.ndarray) -> None:
        """Fit pyabc's kernel; keep its covariance's diagonal if scipy finds it rank-deficient."""
        super().fit(X, w)
        dim = np.shape(X)[1]
        if len(X) > 1 and self.normal.cov_object.rank < dim:
            self.cov = np.diag(np.diag(self.cov))
            self.normal = st.multivariate_normal(cov=self.cov, allow_singular=True)
