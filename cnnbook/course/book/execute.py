"""Run the notebooks for the book, in parallel, each in a fresh kernel, and keep what they printed and drew.

A notebook runs with nbclient in its own folder (so the Korean edition, in ``notebooks/ko/``, speaks
Korean), keeping its widgets' state for :mod:`cnnbook.course.book.stills`. Before the first cell, the
kernel runs :data:`PREAMBLE` (silently, outside the history, so the cells keep their numbers): each
matplotlib figure it draws then carries its titles in the output's metadata (``cnnbook``: ``title``, the
figure's suptitle, and ``panels``, its axes' titles), from which the book writes the figure's alt text.
Results are cached by content: the key is the SHA-256 of the notebook file, of every ``.py`` file of the
``cnnbook`` package and of the preamble, so a notebook runs again only when it or the code it runs has
changed. A cell that fails stops the build, naming the notebook and the cell.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import os
import time
from pathlib import Path

import nbformat

from cnnbook.serialize import write_atomic

PACKAGE = Path(__file__).resolve().parents[2]  # cnnbook/
CELL_TIMEOUT_S = 600


class NotebookFailed(RuntimeError):
    """A notebook's cell raised while the book ran it; the message names the notebook and the cell."""


NOT_RUN_BY_NOTEBOOKS = ("commands", "course/book")  # code no notebook imports: its changes keep the cache

PREAMBLE = """
def _cnnbook_record_figure_titles():
    from matplotlib.figure import Figure
    get_ipython().run_line_magic("matplotlib", "inline")  # as the kernel would on the first figure
    formatter = get_ipython().display_formatter.formatters["image/png"]
    draw = formatter.lookup_by_type(Figure)

    def titles(fig):
        suptitle = (fig.get_suptitle() or "").strip()
        panels = []
        for figure in [fig, *getattr(fig, "subfigs", [])]:
            for ax in figure.axes:
                for loc in ("center", "left", "right"):
                    text = ax.get_title(loc).strip()
                    if text and text not in panels:
                        panels.append(text)
        sub = [s.get_suptitle().strip() for s in getattr(fig, "subfigs", []) if s.get_suptitle()]
        return {"title": suptitle, "panels": sub + [p for p in panels if p not in sub]}

    def titled(fig):
        data = draw(fig)
        if data is None:
            return None
        data, md = data if isinstance(data, tuple) else (data, {})
        return data, {**(md or {}), "cnnbook": titles(fig)}

    formatter.for_type(Figure, titled)


_cnnbook_record_figure_titles()
del _cnnbook_record_figure_titles
"""
"""Run in each kernel before the notebook: every figure's PNG output records the figure's titles."""


def package_hash() -> str:
    """The SHA-256 of every ``.py`` and ``.po`` file of the package that notebooks can import (path and bytes)."""
    digest = hashlib.sha256()
    for path in sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.po")]):
        if path.relative_to(PACKAGE).as_posix().startswith(NOT_RUN_BY_NOTEBOOKS):
            continue
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    digest.update(PREAMBLE.encode())
    return digest.hexdigest()


def cache_key(path: Path, code_hash: str) -> str:
    return hashlib.sha256(Path(path).read_bytes() + code_hash.encode()).hexdigest()[:24]


def run_notebook(path: str) -> tuple[str, str, float]:
    """Execute the notebook at ``path`` in its own folder; return ``(path, executed notebook JSON, seconds)``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    started = time.monotonic()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no start-up chatter

    async def preamble(notebook):
        reply = await client.kc.execute_interactive(PREAMBLE, silent=True, store_history=False, timeout=60)
        if reply["content"]["status"] != "ok":
            raise NotebookFailed(f"{path}: the book's preamble failed in the kernel: {reply['content'].get('evalue')}")

    client.on_notebook_start = preamble
    try:
        client.execute()
    except CellExecutionError as exc:
        raise NotebookFailed(f"{path}: a cell failed while the book ran it:\n{str(exc)[-3000:]}") from None
    return str(path), nbformat.writes(nb), time.monotonic() - started


def execute_all(paths, cache_dir: Path | None, jobs: int = 2, log=print) -> dict[Path, object]:
    """``{path: executed notebook}`` for every path, from the cache where it is current, else run (``jobs``
    at a time). New results are written to the cache atomically, replacing older runs of the same notebook."""
    code_hash = package_hash()
    results, todo = {}, []
    for path in map(Path, paths):
        cached = cache_dir / f"{path.parent.name}-{path.stem}-{cache_key(path, code_hash)}.ipynb" if cache_dir else None
        if cached is not None and cached.is_file():
            results[path] = nbformat.read(cached, as_version=4)
        else:
            todo.append((path, cached))
    if todo:
        log(f"running {len(todo)} notebooks ({len(results)} from the cache), {jobs} at a time")
        env_before = os.environ.get("MPLBACKEND")
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        try:
            with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = {pool.submit(run_notebook, str(path)): (path, cached) for path, cached in todo}
                for future in concurrent.futures.as_completed(futures):
                    path, cached = futures[future]
                    _, text, seconds = future.result()
                    log(f"  {path.parent.name}/{path.name}: {seconds:.1f} s")
                    results[path] = nbformat.reads(text, as_version=4)
                    if cached is not None:
                        cached.parent.mkdir(parents=True, exist_ok=True)
                        write_atomic(cached, text.encode("utf-8"))
                        for old in cached.parent.glob(f"{path.parent.name}-{path.stem}-*.ipynb"):
                            if old != cached:  # an earlier run of this notebook, now out of date
                                old.unlink(missing_ok=True)
        finally:
            if env_before is None:
                os.environ.pop("MPLBACKEND", None)
            else:
                os.environ["MPLBACKEND"] = env_before
    return results
