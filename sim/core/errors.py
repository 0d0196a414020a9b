"""Errors a user can cause and fix: the command line prints them without a traceback."""


class UserError(Exception):
    """Bad input from a user: a scenario, experiment or command-line value.

    The message always names where the problem is (file, key), what is allowed
    and how to fix it.
    """


class RunsFailed(Exception):
    """Some runs of a batch failed; everything computed is kept on disk.

    The message says how many runs failed of how many, the first failure, where every
    failure's error is recorded, and how to go on (``--allow-failures`` accepts them).
    The command line prints it as one line and exits with code 1: a batch with failed
    runs is not a success.
    """
