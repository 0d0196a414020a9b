"""Calibration: fit the model to a real series by ABC-SMC (pyabc), then forecast.

``nextpractice calibrate CALIBRATION.yaml`` reads a calibration file (strict schema,
:class:`Calibration`), fits the parameters it names to an observed series with
approximate Bayesian computation by sequential Monte Carlo (Toni et al. 2009, J R Soc
Interface 6:187; the implementation is pyabc, Klinger, Rickert and Hasenauer 2018,
Bioinformatics 34:3591; Schaelte et al. 2022, JOSS 7:4304), and writes into one folder:

- ``history.db``: pyabc's History (sqlite), every generation's particles;
- ``posterior.parquet``: the last generation's weighted particles, one column per
  fitted parameter, ``weight`` (summing to 1) and ``generation``;
- ``generations.csv``: per generation the tolerance ``epsilon``, the simulations run,
  the particles accepted and the acceptance rate;
- ``predictive.parquet``: posterior predictive runs (a weighted draw of parameters,
  each run with its own seed) at every observed year;
- ``forecast.csv`` (when the file holds years back): the out-of-sample forecast of the
  held-back years against two naive forecasts;
- ``posterior.png`` and ``predictive.png``; ``summary.json`` (the file, the posterior
  summaries, the forecast, the timings and the versions).

**Series file** (``observed.file``): CSV, ``#`` starts a comment line. The header's
first column is ``year``, the second names the series (any name: the value column),
an optional third is ``sd`` (the measurement's standard deviation, same unit); the
provenance columns ``source``, ``status`` and ``note`` of the shipped data files
(:mod:`sim.inputs.catalogue`) may follow and are not read. One row per year, whole
years, no repeats; ``observed.years: [first, last]`` uses only those years of the
file. ``observed.unit`` says whether values are ``percent`` (0 to 100; residuals and
RMSE are then in percentage points) or ``share`` (0 to 1); the model's ``perf_mean``
(a share) is put in the same unit.

**Dates**: the model's step 0 is month ``start_month`` (default 9, September) of the
scenario's ``start_year``; a value of year ``Y`` measured in month
``observed.measured_month`` (default 5: Key Stage 2 tests are taken in May) is read
at step ``((Y - start_year) * 12 + measured_month - start_month) / dur_step``, so
May 1999 is step 8. Years measured before the first step (1997 and 1998 in the KS2
series, whose 1998 value is the model's starting level) are not fitted; the naive
logistic forecast still uses them, as it uses every year up to the cutoff.

**Determinism** (same seed, same posterior, on any number of workers): pyabc's own
parallel samplers reseed from the operating system. :class:`SeededSampler` instead
evaluates candidate ``j`` of sampler call ``c`` with numpy's global generator (which
pyabc's proposals and this module's simulation seed use) seeded from the seed tree's
words at ``(c, j)`` under the calibration seed (:mod:`sim.experiments.seeds`), and keeps
the first ``n`` accepted candidates in index order, whatever order the workers finish
in. Its candidates, and the predictive runs, go through the one executor
(:mod:`sim.experiments.executor`); a simulation that fails is recorded in
``failed_runs.csv`` (the fit counts it as rejected), and the command exits non-zero
unless ``--allow-failures`` accepts it.
"""
