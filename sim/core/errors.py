"""Errors a user can cause and fix: the command line prints them without a traceback."""


class UserError(Exception):
    """Bad input from a user: a scenario, experiment or command-line value.

    The message always names where the problem is (file, key), what is allowed
    and how to fix it.
    """
