"""``python -m cnnbook ...`` as a user meets it: a mistake is one ``error:`` line and exit 2, Ctrl-C or SIGTERM
stops a command with one line (exit 130 or 143), and a run that learned nothing says so."""
import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from process_helpers import check_no_leftovers, marked_env, stop_popen

from cnnbook.commands import cli
from cnnbook.commands.train import chance_warning

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = marked_env(PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))


@pytest.fixture(scope="module", autouse=True)
def no_process_left_behind():
    yield
    check_no_leftovers()


def cnnbook(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "cnnbook", *args], capture_output=True, text=True, timeout=timeout,
                          env=ENV, cwd=ROOT, stdin=subprocess.DEVNULL)


def assert_one_error_line(result, status, pattern):
    """Exit ``status``; stderr has no traceback and exactly one ``error:`` line, which matches ``pattern``."""
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert re.search(pattern, errors[0]), errors[0]


@pytest.mark.parametrize("args, pattern", [
    (["--lr", "0"], r"argument --lr: a learning rate is a finite number > 0, got 0\b"),
    (["--lr", "-1"], r"argument --lr: .* got -1\b"),
    (["--lr", "nan"], r"argument --lr: .* got nan\b"),
    (["--lr", "inf"], r"argument --lr: .* got inf\b"),
    (["--lr", "1e300"], r"argument --lr: 1e300 is too large: the models compute in float32"),
    (["--lr", "fast"], r"argument --lr: 'fast' is not a number"),
    (["--seed", "-1"], r"argument --seed: a seed is an integer >= 0, got -1"),
    (["--seed", "1.5"], r"argument --seed: '1.5' is not an integer"),
    (["--epochs", "0"], r"argument --epochs: must be a positive integer, got 0"),
    (["--batch-size", "-3"], r"argument --batch-size: must be a positive integer, got -3"),
    (["--threads", "0"], r"argument --threads: must be a positive integer, got 0"),
    (["--limit", "0"], r"argument --limit: must be a positive integer, got 0"),
    (["--backend", "torch"], r"argument --backend: invalid choice: 'torch'"),
    (["--bogus"], r"unrecognized arguments: --bogus"),
])
def test_train_refuses_a_bad_value_in_one_line(args, pattern):
    assert_one_error_line(cnnbook("train", *args, "--no-progress"), 2, pattern)


@pytest.mark.parametrize("args, pattern", [
    (["doctor", "--bogus"], r"python -m cnnbook doctor: error: unrecognized arguments: --bogus"),
    (["student"], r"python -m cnnbook student: error: the following arguments are required: OUTDIR"),
    (["student", "out", "extra"], r"python -m cnnbook student: error: unrecognized arguments: extra"),
    (["bench", "--batch-size", "0"], r"argument --batch-size: must be a positive integer, got 0"),
    (["bench", "--repeats", "-1"], r"argument --repeats: must be a positive integer, got -1"),
    (["bench", "--threads", "0"], r"argument --threads: must be a positive integer, got 0"),
    (["bench", "--cs231n", "peers/cs231n"], r"unrecognized arguments: --cs231n peers/cs231n"),
    (["lab", "--port", "8890"], r"JupyterLab's arguments go after --: python -m cnnbook lab -- --port 8890"),
    (["book", "out", "--lang", "ko"], r"argument --lang: the book's root is English, .* leave --lang out"),
    (["claims", "--lang", "fr"], r"argument --lang: invalid choice: 'fr' \(choose from 'en', 'ko'\)"),
    (["translations", "export"], r"translations export: error: the following arguments are required: NAME"),
    (["train", "--epochs"], r"argument --epochs: expected one argument"),
    ([], r"the following arguments are required: COMMAND"),
    (["teach"], r"argument COMMAND: invalid choice: 'teach'"),
])
def test_every_command_refuses_a_command_line_mistake_in_one_line(args, pattern):
    assert_one_error_line(cnnbook(*args, timeout=120), 2, pattern)


def test_a_diverging_learning_rate_is_one_error_line():
    result = cnnbook("train", "--lr", "1e30", "--epochs", "1", "--limit", "300", "--no-progress")
    assert_one_error_line(result, 1, r"^error: the training loss became nan .* \(--lr 1e\+30\)$")
    assert result.stderr.strip().count("\n") == 0, result.stderr  # no NumPy overflow warnings either


def test_training_that_ends_at_chance_warns():
    result = cnnbook("train", "--lr", "1e6", "--epochs", "1", "--limit", "300", "--seed", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"^test accuracy: (0\.\d{4})$", result.stdout, re.M).group(1))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [line for line in result.stderr.splitlines() if line.strip()], result.stderr
    assert len(warnings) == 1 and f"test accuracy {accuracy:.4f} is no better than always guessing" in warnings[0]
    assert "--lr 1e+06" in warnings[0]


def test_chance_warning_threshold():
    y = np.repeat(np.arange(10), 30)  # 300 balanced labels: guessing gets 0.1, three sigmas above is 0.152
    assert "no better than always guessing the most common class (0.1000)" in chance_warning(0.15, y, 1e6)
    assert chance_warning(0.16, y, 2e-3) is None
    skewed = np.array([0] * 90 + [1] * 10)  # always answering 0 is right 90% of the time; three sigmas: 0.99
    assert chance_warning(0.95, skewed, 1e-2) is not None and chance_warning(1.0, skewed, 1e-2) is None


def _read_until(proc, pattern, seconds=180):
    """Read ``proc``'s stderr until ``pattern`` matches it (or the process ends); return what was read."""
    text, deadline, fd = "", time.monotonic() + seconds, proc.stderr.fileno()
    while not re.search(pattern, text) and time.monotonic() < deadline and proc.poll() is None:
        if select.select([fd], [], [], 1)[0]:
            text += os.read(fd, 65536).decode(errors="replace")
    return text


@pytest.mark.parametrize("sig, status, name", [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")],
                         ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_stops_training_in_one_line(sig, status, name):
    proc = subprocess.Popen([sys.executable, "-m", "cnnbook", "train", "--epochs", "1000", "--limit", "256",
                             "--batch-size", "8"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, cwd=ROOT, start_new_session=True)
    try:
        # the progress bar on stderr shows a finished step: the command is training
        seen = _read_until(proc, r"\b[1-9]\d*/\d+ \[")
        assert proc.poll() is None, seen
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        stop_popen(proc)
    err = seen + err.decode(errors="replace")
    messages = [line for line in re.split(r"[\r\n]", err) if line.strip() and not line.startswith("training")]
    assert proc.returncode == status, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    assert len(messages) == 1, messages
    match = re.fullmatch(rf"interrupted by {name}: training stopped after (\d+) steps, (\d+) of 1000 epochs done",
                         messages[0])
    assert match and int(match.group(1)) >= 1, messages[0]
    assert b"test accuracy" not in out


def test_ctrl_c_stops_any_command_in_one_line():
    proc = subprocess.Popen([sys.executable, "-m", "cnnbook", "bench", "--no-torch", "--repeats", "1000"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                            cwd=ROOT, start_new_session=True)
    try:
        assert proc.stdout.readline().startswith(b"conv2d forward+backward")  # it is timing
        # Past its imports: a Ctrl-C inside one that runs exec() on a string (dataclasses, namedtuple do) ends
        # Python 3.11 by SIGINT at exit even when the command catches it, so the status would be -2, not 130.
        for line in iter(proc.stdout.readline, b""):
            if line.startswith(b"layer"):  # the table's header: timing the layers, all imports done
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        stop_popen(proc)
    assert proc.returncode == 130
    assert err.decode().strip().splitlines() == ["interrupted by Ctrl-C: python -m cnnbook bench stopped"]


def test_install_hints_are_quoted_for_zsh(monkeypatch):
    """``pip install -e .[gpu]`` unquoted is a glob in zsh ("no matches found"): every hint quotes it."""
    from pathlib import Path

    from cnnbook import backend
    monkeypatch.setitem(sys.modules, "cupy", None)  # CuPy does not import
    works, reason = backend.gpu_status()
    assert not works and 'pip install -e ".[gpu]"' in reason
    unquoted = re.compile(r"pip install (-e )?[\w.]*\[")
    files = [Path(ROOT, "README.md"), *Path(ROOT, "docs").glob("*.md"), *Path(ROOT, "cnnbook").rglob("*.py")]
    found = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in files
             for m in unquoted.finditer(path.read_text(encoding="utf-8"))]
    assert not found, found


def _help_texts():
    """The top-level help and every command's, as a user sees them."""
    from cnnbook.__main__ import COMMANDS
    yield "python -m cnnbook --help", cnnbook("--help").stdout
    for name in COMMANDS:
        yield f"python -m cnnbook {name} --help", cnnbook(name, "--help").stdout


def test_help_is_plain_text_without_markup():
    for command, text in _help_texts():
        assert text.startswith("usage: python -m cnnbook"), (command, text[:200])
        for markup in ("``", ":func:", ":class:", ":mod:", ":data:"):
            assert markup not in text, f"{command} shows reStructuredText markup {markup!r}:\n{text}"


@pytest.mark.parametrize("readme, heading", [("README.md", "### The command line"), ("README.ko.md", "### 명령줄")])
def test_readme_lists_every_command_of_the_parser(readme, heading):
    """The README's command table names every command the parser has, and none it lacks."""
    from cnnbook.__main__ import COMMANDS
    text = open(os.path.join(ROOT, readme), encoding="utf-8").read()
    assert heading in text, f"{readme} has no section {heading!r}"
    text = text.split(heading, 1)[1].split("\n#", 1)[0]
    listed = re.findall(r"^\| `(\w+)[^`]*` \|", text, flags=re.MULTILINE)
    assert sorted(set(listed)) == sorted(COMMANDS), \
        f"{readme}'s command table lists {listed}, the parser has {list(COMMANDS)}"


def test_help_lists_learner_commands_apart_from_maintainer_commands_and_imports_none():
    from cnnbook.__main__ import COMMANDS, GROUPS
    probe = ("import sys; from cnnbook.__main__ import main\n"
             "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(set(sys.modules) & {'cnnbook.commands.' + name for name in " + repr(list(COMMANDS)) + "}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=ENV,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("[]"), "--help imports no command's module"
    text = result.stdout
    headings = [text.index(f"\n{title}:\n") for title in GROUPS]
    assert headings == sorted(headings), "learners' commands come first"
    for (title, group), start, end in zip(GROUPS.items(), headings, [*headings[1:], len(text)]):
        listed = re.findall(r"^  (\w+) ", text[start:end], flags=re.MULTILINE)
        assert listed == list(group), (title, listed)


def test_lang_takes_en_or_ko_in_every_command_and_is_none_when_left_out():
    import argparse
    import importlib

    from cnnbook.__main__ import COMMANDS

    def lang_options(parser):
        for action in parser._actions:
            if "--lang" in action.option_strings:
                yield action
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from lang_options(sub)

    found = {}
    for name in COMMANDS:
        parser = argparse.ArgumentParser()
        importlib.import_module(f"cnnbook.commands.{name}").add_arguments(parser)
        found[name] = [(tuple(a.choices), a.default) for a in lang_options(parser)]
    assert {shape for shapes in found.values() for shape in shapes} == {(("en", "ko"), None)}, found
    assert {name for name, shapes in found.items() if shapes} == {"doctor", "lab", "claims", "student", "book",
                                                                  "translations"}


@pytest.mark.parametrize("parse, text, words", [
    (cli.positive_int, "0", "positive integer, got 0"), (cli.positive_int, "2.5", "'2.5' is not an integer"),
    (cli.seed, "-1", "integer >= 0, got -1"), (cli.learning_rate, "nan", "finite number > 0, got nan"),
    (cli.learning_rate, "0", "finite number > 0, got 0"), (cli.learning_rate, "1e39", "too large")])
def test_an_argument_type_refuses_a_bad_value_naming_it_and_no_other_commands_default(parse, text, words):
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        parse(text)
    assert words in str(caught.value)
    assert "default" not in str(caught.value)  # a type serves several commands: it cannot know their defaults


def test_an_argument_type_gives_back_the_value():
    assert (cli.positive_int("3"), cli.seed("0"), cli.learning_rate("0.01")) == (3, 0, 0.01)
