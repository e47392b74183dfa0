"""Build hook: a regular install (``pip install .``, a wheel) carries the notebooks and the bundled data.

Everything else about the package is in ``pyproject.toml``. When a wheel is built, ``notebooks/*.ipynb``, the Korean
edition ``notebooks/ko/`` (notebooks and glossary) and ``data/fashion-mnist-subset.npz`` (with ``data/README.md``, its
provenance) are copied into ``cnnbook/data/bundled/``, where :func:`cnnbook.data.workbook.workbook_dir` finds them, so
the workbook runs from any folder. An editable install (a clone) reads ``notebooks/`` and ``data/`` in place:
nothing is copied.
"""
import glob
import os

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

BUNDLE = {"notebooks": ["notebooks/*.ipynb"],
          os.path.join("notebooks", "ko"): ["notebooks/ko/*.ipynb", "notebooks/ko/*.md"],
          "data": ["data/fashion-mnist-subset.npz", "data/README.md"]}
TARGET = os.path.join("cnnbook", "data", "bundled")


class build_py_with_workbook(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for kind, patterns in BUNDLE.items():
            files = sorted(path for pattern in patterns for path in glob.glob(pattern))
            if not files:
                raise SetupError(f"nothing matches {patterns}: build cnnbook from a complete clone or sdist")
            dest = os.path.join(self.build_lib, TARGET, kind)
            self.mkpath(dest)
            for path in files:
                self.copy_file(path, dest)


setup(cmdclass={"build_py": build_py_with_workbook})
