"""The command line: ``python -m cnnbook {doctor,train,bench,student,lab,claims,book,translations}``.

Each command lives in ``cnnbook/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status), and is imported only when it runs. A command-line mistake is one
``error:`` line and exit status 2; Ctrl-C or SIGTERM stops a command with one line and ``128 + signal``
(130 for Ctrl-C, 143 for SIGTERM), never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import shlex
import sys

from cnnbook.commands import describe_stop, signal_of, stop_on_sigterm

DESCRIPTION = "cnnbook, a Jupyter workbook on image classification with CNNs (CS231n): its command line."

COMMANDS = {
    "doctor": "check that the workbook can run here: versions, backend, GPU, data",
    "train": "train the reference CNN on Fashion-MNIST",
    "bench": "time naive, fast (and PyTorch) convolution and print the ratios",
    "student": "write the student edition of every notebook (solutions removed) into OUTDIR",
    "lab": "open your working copy of the student edition in JupyterLab (--solutions: notebooks/), also as root",
    "claims": "the lecture notes' claims, audited: a table, or --json",
    "book": "build the web book (static HTML, English and Korean in ko/) into OUTDIR",
    "translations": "keep the Korean edition in step with the English: status, sync, export, import",
}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    with stop_on_sigterm():
        try:
            return _main(argv)
        except KeyboardInterrupt as exc:
            command = " ".join(["python -m cnnbook", *[a for a in argv if a in COMMANDS][:1]])
            print(f"interrupted by {describe_stop(exc)}: {command} stopped", file=sys.stderr)
            return 128 + signal_of(exc)


def _main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnbook", description=DESCRIPTION,
                                     epilog="`python -m cnnbook COMMAND --help` describes one command.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules, parsers = {}, {}
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"cnnbook.commands.{name}")
        modules[name] = module
        parsers[name] = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(parsers[name])
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command == "lab":  # the README's form: JupyterLab's own options after --
            parsers["lab"].error("JupyterLab's arguments go after --: python -m cnnbook lab -- "
                                 + shlex.join(argv[argv.index("lab") + 1:]))
        parsers[args.command].error(f"unrecognized arguments: {shlex.join(extra)}")
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
