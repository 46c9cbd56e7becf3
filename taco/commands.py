"""What the ``taco`` command and the modules that add subcommands to it share.

A module listed in :data:`taco.cli.COMMAND_MODULES` defines ``register(subparsers)``, which adds
its subcommands with ``set_defaults(func=...)``; ``func(args)`` returns the exit status and
raises :class:`CLIError` for a user error. Such modules import this module (and may use
:mod:`taco.cli.common`), never the names of :mod:`taco.cli` itself, which imports them.
"""

from __future__ import annotations

from .errors import TacoError


class CLIError(TacoError):
    """A user error: printed as one line, exit status 2."""
