"""The package's layout: a short top level, rooms by job, dependencies that run one way, public names kept.

Rooms, lowest first: the core (``backend``, ``layers``, ``nn``, ``optim``, ``train``, ``gradcheck``, ``serialize``);
``data`` and ``models``, which use the core; ``course``, which uses the core, ``data`` and ``models``; and the
edges (``viz``, ``widgets``, ``explore``, ``commands``, the ``exercises`` name), which may use anything.
No module imports another module's private names, nor a private module from outside its package.
"""
import ast
import importlib
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnnbook"

CORE = {"backend", "layers", "nn", "optim", "train", "gradcheck", "serialize"}
ROOMS = {name: "core" for name in CORE}
ROOMS.update(data="data", models="models", course="course", viz="edge", widgets="edge", explore="edge",
             commands="edge", exercises="edge", __main__="edge")
# One explicit exception: the language setting is a core service. The layers write their error messages
# through its ``tr``, so that a learner reads them in the edition's language; it imports only the standard
# library and polib, and ``cnnbook/course/__init__.py`` (run when it is imported) imports nothing, which
# test_the_core_service_imports_nothing_of_the_course_room keeps true.
CORE_SERVICES = {"cnnbook.course.language"}
ALLOWED = {"core": {"core"}, "data": {"core", "data"}, "models": {"core", "models"},
           "course": {"core", "data", "models", "course"}, "edge": {"core", "data", "models", "course", "edge"}}


def modules():
    """``{dotted name: path}`` for every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(path, known):
    """The package modules that ``path`` imports, anywhere in the file (inside functions too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("cnnbook")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnnbook"):
            for alias in node.names:  # `from cnnbook import data` names a module, `from cnnbook.nn import Module` not
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in known else node.module)
    return {m for m in out if m in known}


def room(module):
    if module in CORE_SERVICES:
        return "core"
    parts = module.split(".")
    return "package" if len(parts) == 1 else ROOMS[parts[1]]


def test_top_level_has_at_most_15_jobs():
    entries = sorted(p.stem for p in PACKAGE.iterdir()
                     if p.name not in ("__init__.py", "__main__.py", "__pycache__") and not p.name.startswith("."))
    assert len(entries) <= 15, entries
    assert set(entries) == set(ROOMS) - {"__main__"}, "every top-level entry belongs to a room"


def test_dependencies_run_one_way():
    known = modules()
    wrong = []
    for module, path in sorted(known.items()):
        if module == "cnnbook":
            continue
        for target in imports_of(path, known):
            if target != "cnnbook" and room(target) not in ALLOWED[room(module)]:
                wrong.append(f"{module} ({room(module)}) imports {target} ({room(target)})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    known = modules()
    graph = {m: imports_of(p, known) - {m} for m, p in known.items()}
    # a package's __init__ importing its own submodules is how packages work; a submodule importing
    # its package back (which runs that __init__) while the __init__ imports it is a cycle
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "\n".join(cycles)


def test_the_core_service_imports_nothing_of_the_course_room():
    known = modules()
    for service in CORE_SERVICES:
        package = service.rsplit(".", 1)[0]
        assert imports_of(known[service], known) == set(), service
        assert imports_of(known[package], known) == set(), f"{package}/__init__.py runs on import of {service}"
        tree = ast.parse(known[package].read_text(encoding="utf-8"))
        assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))], package
        imported = {a.name.split(".")[0] for n in ast.walk(ast.parse(known[service].read_text(encoding="utf-8")))
                    if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(ast.parse(known[service].read_text(encoding="utf-8")))
                     if isinstance(n, ast.ImportFrom) and n.module}
        assert imported <= set(sys.stdlib_module_names) | {"polib"}, imported
    assert room("cnnbook.course.language") == "core" and room("cnnbook.course.catalog") == "course"
    assert room("cnnbook.course") == "course"


def test_the_graph_checker_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "train.py"
    bad.write_text("def f():\n    from cnnbook.viz.training import LiveLossPlot\n")
    known = modules()
    assert imports_of(bad, known) == {"cnnbook.viz.training"}
    assert room("cnnbook.viz.training") not in ALLOWED[room("cnnbook.train")]



def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def private_imports(module: str, path: Path, known) -> list[str]:
    """The imports in ``path`` (module ``module``) that reach a private name of another module, or a private
    module from outside its package; see :func:`test_no_private_name_is_imported_from_another_module`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    wrong = []

    def private_module_outside(target: str) -> bool:
        parts = target.split(".")
        return any(_private(part) and not _inside(module, ".".join(parts[:i])) for i, part in enumerate(parts))

    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound = {}  # local name -> the package module an import bound to it (`from cnnbook import explore`)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wrong += [f"{module}: import {a.name}" for a in node.names
                      if a.name.startswith("cnnbook") and private_module_outside(a.name)]
            bound.update({a.asname: a.name for a in node.names if a.asname and a.name in known})
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not source.startswith("cnnbook"):
                continue
            shown = f"{module}: from {'.' * node.level}{node.module or ''} import "
            if private_module_outside(source):
                wrong.append(shown + ", ".join(a.name for a in node.names))
                continue
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if target in known:
                    bound[alias.asname or alias.name] = target
                if not _private(alias.name):
                    continue
                if target not in known or not _inside(module, source):  # a private name, or a private module
                    wrong.append(shown + alias.name)
    for node in ast.walk(tree):  # `explore._check_layers(...)`: a private name reached through its module
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and bound.get(node.value.id, module) != module):
            line = f"{module}: {node.value.id}.{node.attr}"
            if line not in wrong:
                wrong.append(line)
    return wrong


def test_no_private_name_is_imported_from_another_module():
    """A name with a leading underscore (not a dunder) is private to the module that defines it: no other module
    of the package imports it, neither as ``from cnnbook.nn.base import _helper`` nor as ``from . import _helper``,
    nor reaches it through the module, as ``from cnnbook.nn import base`` and then ``base._helper``.
    A private *module* (a file named with a leading underscore, such as ``course/exercises/_flow.py``) is
    private to its package: that package's ``__init__`` and its other modules may import it, nothing outside
    the package may (``from cnnbook.course.exercises._flow import x`` in ``cnnbook/viz/`` is
    wrong). What another part needs gets a public name."""
    known = modules()
    wrong = [line for module, path in sorted(known.items()) for line in private_imports(module, path, known)]
    assert not wrong, "\n".join(wrong)


def test_the_private_import_checker_sees_each_kind(tmp_path):
    known = modules()
    bad = tmp_path / "vit.py"
    bad.write_text("from cnnbook.viz.figure import host, _hangul_ready\nfrom . import _flow\n"
                   "import cnnbook.course.exercises._flow\nfrom cnnbook.course.exercises._flow import not_done\n"
                   "from cnnbook.nn.base import _float_dtype\n")
    assert private_imports("cnnbook.models.vit", bad, known) == [
        "cnnbook.models.vit: from cnnbook.viz.figure import _hangul_ready",
        "cnnbook.models.vit: from . import _flow",
        "cnnbook.models.vit: import cnnbook.course.exercises._flow",
        "cnnbook.models.vit: from cnnbook.course.exercises._flow import not_done",
        "cnnbook.models.vit: from cnnbook.nn.base import _float_dtype"]
    inside = tmp_path / "sizes.py"
    inside.write_text("from cnnbook.course.exercises._flow import not_done\n"
                      "from cnnbook.course.exercises import _flow\n")
    assert private_imports("cnnbook.course.exercises.sizes", inside, known) == []
    through = tmp_path / "widgets.py"
    through.write_text("from cnnbook import explore\nimport cnnbook.nn.base as base\nfrom . import viz\n"
                       "explore._check_layers([])\nbase._float_dtype\nexplore.check_layers([])\n"
                       "viz.__name__\nself._cache\n")
    assert sorted(private_imports("cnnbook.widgets", through, known)) == [
        "cnnbook.widgets: base._float_dtype", "cnnbook.widgets: explore._check_layers"]
    init = tmp_path / "__init__.py"
    init.write_text("from . import _flow\nfrom ._common import ExerciseError\nfrom ._common import _short\n")
    assert private_imports("cnnbook.course.exercises", init, known) == [
        "cnnbook.course.exercises: from ._common import _short"]

PUBLIC = {
    "cnnbook.layers": ["conv_output_size", "receptive_field", "conv2d_forward", "conv2d_backward",
                       "conv2d_forward_naive", "conv2d_backward_naive", "max_pool2d_forward", "max_pool2d_backward",
                       "avg_pool2d_forward", "avg_pool2d_backward", "relu_forward", "relu_backward",
                       "linear_forward", "linear_backward", "softmax_cross_entropy", "svm_loss"],
    "cnnbook.nn": ["Conv2d", "Linear", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten", "Sequential", "summary"],
    "cnnbook.backend": ["get_array_module", "to_numpy", "default_backend", "use", "as_generator"],
    "cnnbook.data": ["load_fashion_mnist", "FASHION_MNIST_CLASSES", "DataError"],
    "cnnbook.models": ["reference_cnn", "two_layer_mlp", "linear_classifier"],
    "cnnbook.train": ["fit", "accuracy", "predict", "evaluate", "confusion_matrix", "iterate_minibatches"],
    "cnnbook.exercises": ["ExerciseError", "check_conv_forward_naive", "check_conv_backward_naive",
                          "check_softmax_loss", "check_max_pool_forward", "check_receptive_field"],
    "cnnbook.course.exercises": ["ExerciseError", "check_conv_forward_naive"],
    "cnnbook.course.student": ["write_student_edition", "student_notebook"],
    "cnnbook.data.images": ["load_image", "load_faces"],
    "cnnbook.data.shapes": ["make_shapes"],
    "cnnbook.data.augment": ["shift", "Augment"],
    "cnnbook.models.vit": ["TinyViT"],
    "cnnbook.models.blocks": ["inception_block"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_import(module):
    imported = importlib.import_module(module)
    missing = [name for name in PUBLIC[module] if not hasattr(imported, name)]
    assert not missing, f"{module} lacks {missing}"


def test_the_old_exercises_name_is_the_same_checks():
    import cnnbook.course.exercises as course
    import cnnbook.exercises as old
    assert sorted(old.__all__) == sorted(course.__all__)
    assert all(getattr(old, name) is getattr(course, name) for name in course.__all__)


# ---- test files named after what they test ------------------------------------------------------
TESTS = Path(__file__).resolve().parent
# test_<name>.py names a module (``<module>`` or ``<room>_<module>``: a module's last part, or its last two joined
# by ``_``) and uses it; a name that is no module's names a topic listed here with what it checks.
TEST_TOPICS = {
    "book_parts": "the web book's parts that need no build (cnnbook/course/book; tests/book builds it)",
    "claims_ko": "the claims ledger in Korean",
    "cli": "the command line, python -m cnnbook: help, errors, the README's command table",
    "conv_benchmarks": "benchmarks/conv_alternatives.py and benchmarks/conv_profile.py",
    "data_files": "damaged copies and downloads of the official Fashion-MNIST files",
    "errors_ko_viz": "the figures' (cnnbook/viz) error messages in Korean, and their catalog entries",
    "explore_kernels": "the explorers' dilated and composed kernels",
    "figure_lint": "tests/figure_lint.py, the figures' readability lint, and its nbval plugin",
    "install": "a wheel installed on its own, and the requirement files",
    "language_edges": "the edges (explorers, plots, widgets, commands) in the learner's language",
    "layers_errors": "the layers refuse bad input with a useful message",
    "layout": "the package's layout (this file)",
    "lint": "ruff finds nothing in the repository (pyproject.toml's [tool.ruff] settings)",
    "nbgrader": "the notebooks' nbgrader metadata and a grading round trip",
    "no_leftovers": "tests/process_helpers.py and benchmarks/processes.py leave no process behind",
    "notebooks": "every notebook's shape, as NOTEBOOKS.md asks",
    "notebooks_on_strict_backend": "every notebook on a CuPy-like backend that refuses NumPy shortcuts",
    "register_ko": "the Korean register (합니다체) of catalogs and notebooks",
    "student_runs": "each student edition runs to the end unsolved",
    "viz_hangul": "plots draw Hangul in the Korean edition",
}


def named_modules(name, known):
    """The package modules a ``test_<name>.py`` is named after."""
    return sorted(m for m in known if name in {m.split(".")[-1], "_".join(m.split(".")[-2:])})


def defined_in(path):
    """The names a module defines at its top level."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def taken_from_package(path, known):
    """``(modules, names)``: the package modules a file imports, and the names it imports from them or reads off
    them (``from cnnbook.layers import conv2d_forward``, ``exercises.check_im2col``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules, names, aliases = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    modules.add(alias.name)
                    aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module in known:
            modules.add(node.module)
            for alias in node.names:
                if f"{node.module}.{alias.name}" in known:
                    modules.add(f"{node.module}.{alias.name}")
                    aliases.add(alias.asname or alias.name)
                else:
                    names.add(alias.name)
    names |= {n.attr for n in ast.walk(tree)
              if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in aliases}
    return modules, names


def misnamed(path, known):
    """Why ``path`` (a ``test_<name>.py``) is misnamed, or ``None``."""
    name = path.stem[len("test_"):]
    named = named_modules(name, known)
    if not named:
        return None if name in TEST_TOPICS else (f"{path.name}: no module is named {name!r}; name the file after the "
                                                 f"module it tests, or add {name!r} to TEST_TOPICS")
    modules, names = taken_from_package(path, known)
    if any(m in modules or names & defined_in(known[m]) for m in named):
        return None
    return f"{path.name} is named after {' or '.join(named)} but uses nothing of it"


def test_each_test_file_is_named_after_the_module_it_tests_or_a_listed_topic():
    known = modules()
    problems = [p for p in map(lambda path: misnamed(path, known), sorted(TESTS.glob("test_*.py"))) if p]
    assert not problems, "\n".join(problems)
    stale = [name for name in TEST_TOPICS if not (TESTS / f"test_{name}.py").is_file()]
    assert not stale, f"TEST_TOPICS lists {stale}: no such test file"


def test_the_name_checker_sees_a_file_named_after_another_module(tmp_path):
    known = modules()
    figures = tmp_path / "test_figures.py"  # cnnbook.course.book.figures, which this file does not touch
    figures.write_text("from figure_lint import lint_figure\n\ndef test_lint():\n    assert lint_figure\n")
    assert "cnnbook.course.book.figures" in misnamed(figures, known)
    assert "TEST_TOPICS" in misnamed(tmp_path / "test_exercises_more.py", known)
    deeper = tmp_path / "test_exercises_deeper.py"
    deeper.write_text("from cnnbook import exercises\n\ndef test_it():\n    assert exercises.check_im2col\n")
    assert misnamed(deeper, known) is None
