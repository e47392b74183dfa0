"""The command line: ``python -m cnnbook COMMAND``, learners' commands first, then instructors' and maintainers'.

Each command lives in ``cnnbook/commands/<name>.py`` with ``add_arguments(parser)`` and ``run(args) -> int``
(the exit status); only the module of the command that runs is imported (``--help`` lists every command
from :data:`COMMANDS` alone). Options are spelled the same in every command (``--lang en|ko``,
``--batch-size``, ``--seed``). A command-line mistake is one ``error:`` line and exit status 2; Ctrl-C or
SIGTERM stops a command with one line and ``128 + signal`` (130 for Ctrl-C, 143 for SIGTERM), never a
traceback (:func:`cnnbook.serialize.sigterm_as_ctrl_c`).
"""
from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import textwrap

from cnnbook.commands.cli import describe_stop, signal_of
from cnnbook.serialize import sigterm_as_ctrl_c

DESCRIPTION = "cnnbook, a Jupyter workbook on image classification with CNNs (CS231n): its command line."

GROUPS = {
    "commands for learners": {
        "doctor": "check that the workbook can run here: versions, backend, GPU, data",
        "lab": "open your working copy of the student edition in JupyterLab (--solutions: notebooks/), also as root",
        "train": "train the reference CNN on Fashion-MNIST",
        "bench": "time naive, fast (and PyTorch) convolution and print the ratios",
        "claims": "the lecture notes' claims, audited: a table, or --json",
    },
    "commands for instructors and maintainers": {
        "student": "write the student edition of every notebook (solutions removed) into OUTDIR",
        "book": "build the web book (static HTML, English and Korean in ko/) into OUTDIR",
        "translations": "keep the Korean edition in step with the English: status, sync, export, import, catalog",
    },
}
COMMANDS = {name: text for group in GROUPS.values() for name, text in group.items()}
"""``{command: what it does}``, every command of ``python -m cnnbook``."""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    with sigterm_as_ctrl_c():
        try:
            return _main(argv)
        except KeyboardInterrupt as exc:
            command = " ".join(["python -m cnnbook", *[a for a in argv if a in COMMANDS][:1]])
            print(f"interrupted by {describe_stop(exc)}: {command} stopped", file=sys.stderr)
            return 128 + signal_of(exc)


def _listing() -> str:
    """The commands under their group's heading, as ``--help`` shows them."""
    width = max(map(len, COMMANDS)) + 4
    lines = []
    for title, group in GROUPS.items():
        lines.append(f"{title}:")
        for name, text in group.items():
            lines += textwrap.wrap(text, 100, initial_indent=f"  {name:<{width - 2}}", subsequent_indent=" " * width)
        lines.append("")
    return "\n".join([*lines, "`python -m cnnbook COMMAND --help` describes one command."])


def _main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnbook", description=DESCRIPTION, epilog=_listing(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, help="one of the commands below")
    parsers = {name: sub.add_parser(name, description=text) for name, text in COMMANDS.items()}
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)  # the first word names the command
    if chosen in COMMANDS:
        module = importlib.import_module(f"cnnbook.commands.{chosen}")
        module.add_arguments(parsers[chosen])
    args, extra = parser.parse_known_args(argv)  # without a command: the help, or the mistake, and exit
    if extra:
        if args.command == "lab":  # the README's form: JupyterLab's own options after --
            parsers["lab"].error("JupyterLab's arguments go after --: python -m cnnbook lab -- "
                                 + shlex.join(argv[argv.index("lab") + 1:]))
        parsers[args.command].error(f"unrecognized arguments: {shlex.join(extra)}")
    return module.run(args)


if __name__ == "__main__":
    sys.exit(main())
