"""Reading and checking what users give.

Files read safely, values of the right type, parameter sets that make sense,
command-line values, and the built-in files by name.
"""
