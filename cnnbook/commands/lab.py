"""``python -m cnnbook lab``: open the workbook in JupyterLab, on the learner's own working copy.

By default it opens the learner's working copy of the student edition (exercises as stubs, no hidden tests),
made on first use and refreshed at each start without ever writing over a notebook the learner changed
(:mod:`cnnbook.course.learner`): ``--home DIR``, else ``$CNNBOOK_HOME``, else ``~/cnnbook-work``; the command
prints where it is and what it changed. ``--solutions`` opens the instructor's edition instead, the workbook's
own ``notebooks/`` with the solutions (as ``jupyter lab notebooks/``). ``--lang ko`` does the same with the
Korean edition: the working copy's ``ko/`` folder (or ``notebooks/ko/`` with ``--solutions``), and the checks
speak Korean (``$CNNBOOK_LANG=ko`` for the server and its kernels). Without ``--lang``, the edition of the
language in use (``$CNNBOOK_LANG``, else the edition whose folder the command runs in, else English).

It works from any folder, and also where learners work as root (lab containers, Docker), which JupyterLab
refuses without ``--allow-root``. Arguments after ``--`` go to JupyterLab unchanged:
``python -m cnnbook lab -- --no-browser --port 8890``.

On POSIX the command becomes JupyterLab (``os.execv``): the PID that a container, a hub or a terminal
signals is JupyterLab's own, so SIGTERM stops the server the way it stops itself: its kernels shut down and
its runtime files are removed, and nothing is left running under PID 1. Ctrl-C in a terminal is JupyterLab's
(it asks, or stops at a second Ctrl-C); a SIGINT without a terminal to ask on stops it like SIGTERM.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from cnnbook.commands.cli import add_lang_argument
from cnnbook.course.language import get_language, set_language, tr
from cnnbook.data.workbook import workbook_dir

NOTEBOOKS = workbook_dir("notebooks")  # the clone's notebooks/, or their copy in a regular install


def add_arguments(parser) -> None:
    parser.add_argument("--solutions", action="store_true",
                        help="open the instructor's edition (the workbook's notebooks/, solutions included) "
                             "instead of your working copy")
    parser.add_argument("--home", metavar="DIR", default=None,
                        help="your working copy of the student edition (default: $CNNBOOK_HOME, else "
                             "~/cnnbook-work); made on first use, your changes are never overwritten")
    add_lang_argument(parser)
    parser.add_argument("jupyter_args", nargs="*", metavar="ARG",
                        help="passed on to `jupyter lab`; put them after --")
    parser.epilog = "example: python -m cnnbook lab -- --no-browser --port 8890"


def lab_command(extra=(), euid=None, folder=None) -> list[str]:
    """The ``jupyter lab`` command line that opens ``folder`` (default: the instructor's edition, NOTEBOOKS)."""
    if not NOTEBOOKS.is_dir():
        raise FileNotFoundError(tr("no notebooks folder at {folder}: run this from a clone of the repository, "
                                   "installed with `pip install -r requirements.txt`", folder=NOTEBOOKS))
    euid = os.geteuid() if euid is None and hasattr(os, "geteuid") else euid
    cmd = [sys.executable, "-m", "jupyterlab", str(NOTEBOOKS if folder is None else folder), *extra]
    if euid == 0 and "--allow-root" not in cmd:
        cmd.append("--allow-root")  # JupyterLab refuses root otherwise; lab containers often run as root
    return cmd


def run(args) -> int:
    lang = args.lang or get_language()
    set_language(lang)  # its lines in the edition's language
    try:
        return _run(args, lang)
    finally:
        set_language(None)  # back to the automatic choice, for whatever runs after in this process


def _run(args, lang) -> int:
    if not _has_jupyterlab():
        print(tr("error: JupyterLab is not installed here (it does not import): run `pip install jupyterlab`, "
                 "or `pip install -r requirements.txt` in a clone"), file=sys.stderr)
        return 1
    try:
        if args.solutions:
            from cnnbook.course.student import default_source
            folder = None if lang == "en" else default_source(lang)
        else:
            folder = prepare_folder(args.home, lang=lang)
        cmd = lab_command(args.jupyter_args, folder=folder)
    except (ValueError, OSError) as exc:
        print(tr("error: {exc}", exc=exc), file=sys.stderr)
        return 1
    if args.solutions:
        print(tr("the instructor's edition, with the solutions: {folder}", folder=folder or NOTEBOOKS), flush=True)
    if lang != "en":
        os.environ["CNNBOOK_LANG"] = lang  # the server's kernels inherit it
    print(tr("starting: {command}", command=" ".join(cmd)), flush=True)
    sys.stderr.flush()
    if os.name == "posix":
        assert cmd[1:3] == ["-m", "jupyterlab"], cmd
        # does not return: this process is JupyterLab from here on
        os.execv(sys.executable, [sys.executable, "-m", "cnnbook.commands.lab", *cmd[3:]])
    return _call_forwarding_ctrl_c(cmd)


def prepare_folder(home=None, source=None, lang="en"):
    """Make or refresh the learner's working copy (:func:`cnnbook.course.learner.prepare_working_copy`), print
    where it is and what changed, and return its path: the folder ``lab`` opens without ``--solutions``."""
    from cnnbook.course.learner import prepare_working_copy  # imports nbformat: only when it runs
    copy = prepare_working_copy(home, source=source, lang=lang)
    print(tr("your working copy (the student edition; your changes are kept): {folder}", folder=copy.home),
          flush=True)
    print("  " + tr("{summary}; the solutions: `python -m cnnbook lab --solutions`, or one at a time: "
                    "`from cnnbook.course.solutions import show_solution; show_solution(\"<exercise>\")`",
                    summary=copy.summary()))
    for change in copy.changes:
        if change.message:
            print("  " + change.message)
    return copy.home


def serve(argv) -> int:
    """``python -m jupyterlab ARGV``, where a SIGINT without a terminal stops the server like SIGTERM.

    JupyterLab handles SIGINT only when stdin is a terminal (it asks before stopping); otherwise SIGINT is
    a ``KeyboardInterrupt`` that skips its clean-up (kernels, runtime files). Installed before JupyterLab
    starts, this handler also covers a Ctrl-C during start-up; in a terminal JupyterLab replaces it.
    """
    signal.signal(signal.SIGINT, _stop_like_sigterm)
    from jupyterlab.labapp import main
    return main(argv)


def _stop_like_sigterm(signum, frame):
    if not callable(signal.getsignal(signal.SIGTERM)):
        raise SystemExit(128 + signum)  # JupyterLab has not started yet: nothing to clean up
    os.kill(os.getpid(), signal.SIGTERM)


def _call_forwarding_ctrl_c(cmd) -> int:
    """Elsewhere (Windows): run JupyterLab as a child; Ctrl-C reaches it too, and it decides when to stop."""
    with subprocess.Popen(cmd) as proc:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue


def _has_jupyterlab() -> bool:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":  # what `run` hands the process over to
    sys.exit(serve(sys.argv[1:]))
