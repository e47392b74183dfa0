"""Subcommands of python -m cnnbook, one module each (``add_arguments(parser)``, ``run(args) -> int``); what they
share (argument types, ``--lang``, how a stop is reported) is in ``commands/cli.py``."""
