"""Subcommands of python -m cnnbook, one module each."""
