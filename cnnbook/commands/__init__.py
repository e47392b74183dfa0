"""Subcommands of python -m cnnbook, one module each; what they share is in ``commands/_cli.py``.

``python -m cnnbook`` (``cnnbook/__main__.py``) stops every command the same way on Ctrl-C or SIGTERM, with the
three functions re-exported here.
"""
from cnnbook.commands._cli import describe_stop, signal_of, stop_on_sigterm

__all__ = ["describe_stop", "signal_of", "stop_on_sigterm"]
