"""The engine's ground floor, on which every other part of :mod:`sim` stands.

Errors, the registry rules plug into, the columnar state, compiled-kernel support,
numerics, shared kernels and memory settings. Nothing here imports any other part of
:mod:`sim` (``tests/test_layers.py`` checks it).
"""
