"""Analysis of saved results.

Sensitivity indices, scenario discovery, robustness, the validation patterns and the
figures.
"""
