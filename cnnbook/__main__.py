"""The command line: ``python -m cnnbook {doctor,train,bench,student,lab}``.

Each command lives in ``cnnbook/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status), and is imported only when it runs.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "doctor": "check that the workbook can run here: versions, backend, GPU, data",
    "train": "train the reference CNN on Fashion-MNIST",
    "bench": "time naive, fast (and PyTorch) convolution and print the ratios",
    "student": "write the student edition of every notebook (solutions removed) into OUTDIR",
    "lab": "open the workbook in JupyterLab (like `jupyter lab notebooks/`, also as root)",
    "claims": "the lecture notes' claims, audited: a table, or --json",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnbook", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = {}
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"cnnbook.commands.{name}")
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
