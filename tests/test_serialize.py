"""cnnbook.serialize: model files that are never half-written, half-loaded or silently replaced."""
import os
import signal
import stat
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from cnnbook import backend, nn


def small_net(rng=0):
    gen = np.random.default_rng(rng)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=gen), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 4 * 4, 5, rng=gen))


def snapshot(model):
    return {name: backend.to_numpy(p.data).copy() for name, p in model.named_parameters()}


def assert_unchanged(model, before):
    after = snapshot(model)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name].dtype == before[name].dtype
        np.testing.assert_array_equal(after[name], before[name])


def write_state(path, state):
    np.savez(path, **state)
    return path


# ---------------------------------------------------------------- a refused load changes nothing
@pytest.mark.parametrize("bad,match", [
    (lambda a: np.full(a.shape, "x", dtype="<U1"), r"'3.weight'.*<U1"),
    (lambda a: a.astype(np.int64), r"'3.weight'.*int64.*floating"),
    (lambda a: a.astype(np.complex64), r"'3.weight'.*complex64"),
    (lambda a: np.where(np.arange(a.size).reshape(a.shape) == 7, np.nan, a), r"'3.weight'.*1 NaN"),
    (lambda a: np.full(a.shape, np.inf, a.dtype), r"'3.weight'.*infinite"),
    (lambda a: np.ones(a.shape, bool), r"'3.weight'.*bool"),
], ids=["strings", "integers", "complex", "nan", "inf", "bool"])
def test_a_refused_load_leaves_every_parameter_as_it_was(tmp_path, bad, match):
    source = small_net(rng=1)
    state = source.state_dict()
    # The last parameter in the file is the bad one, so a load that copies as it checks has
    # already overwritten the others by the time it fails.
    state["3.weight"] = bad(state["3.weight"])
    path = write_state(tmp_path / "bad.npz", state)
    model = small_net(rng=0)
    before = snapshot(model)
    with pytest.raises((TypeError, ValueError), match=match):
        model.load(path)
    assert_unchanged(model, before)
    with pytest.raises((TypeError, ValueError), match=match):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_load_state_dict_with_a_wrong_name_changes_nothing():
    model = small_net()
    before = snapshot(model)
    state = small_net(rng=3).state_dict()
    state["extra"] = np.zeros(2, np.float32)
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


# ---------------------------------------------------------------- file modes
def test_saved_files_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        small_net().save(tmp_path / "a.npz")
        os.umask(0o077)
        small_net().save(tmp_path / "b.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "b.npz").st_mode) == 0o600


def test_saving_over_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "net.npz"
    small_net().save(path)
    os.chmod(path, 0o640)
    small_net(rng=2).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert_unchanged(small_net().load(path), snapshot(small_net(rng=2)))


def test_saving_over_a_read_only_file_is_refused(tmp_path):
    path = tmp_path / "net.npz"
    small_net(rng=0).save(path)
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match=r"net\.npz.*read-only.*chmod"):
        small_net(rng=1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert_unchanged(small_net(rng=5).load(path), snapshot(small_net(rng=0)))
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]


# ---------------------------------------------------------------- errors name the user's path
def test_a_truncated_file_is_named(tmp_path):
    path = tmp_path / "net.npz"
    small_net().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    model = small_net(rng=4)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"net\.npz.*(damaged|truncated|not a parameter file)") as info:
        model.load(path)
    assert not isinstance(info.value, zipfile.BadZipFile)
    assert_unchanged(model, before)


def test_saving_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "no-such-folder" / "net.npz"
    with pytest.raises(FileNotFoundError) as info:
        small_net().save(target)
    message = str(info.value)
    assert str(target) in message and "no-such-folder" in message and ".tmp-" not in message
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- interrupted saves
def run_saver(tmp_path, body):
    """Run ``body`` in a fresh Python that has ``model`` and ``target`` and a patched ``np.savez``."""
    script = textwrap.dedent("""
        import os, signal, sys, time
        import numpy as np
        from cnnbook import nn
        model = nn.Sequential(nn.Linear(64, 64, rng=0))
        target = sys.argv[1]
    """) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script, str(tmp_path / "net.npz")], capture_output=True,
                          text=True, timeout=120)


def test_sigterm_during_a_save_removes_the_temporary_file(tmp_path):
    # np.savez writes part of the file, then the process receives SIGTERM (as from `kill`, a container stop).
    proc = run_saver(tmp_path, """
        def half_written(f, **arrays):
            f.write(b"PK" + b"x" * 100_000)
            f.flush()
            print(sorted(os.listdir(os.path.dirname(target))), flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)
        np.savez = half_written
        model.save(target)
    """)
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert ".tmp-" in proc.stdout  # the temporary file existed while the save ran
    assert os.listdir(tmp_path) == []


def test_a_save_after_sigkill_removes_the_dead_process_temp_file(tmp_path):
    proc = run_saver(tmp_path, """
        def killed(f, **arrays):
            f.write(b"PK" + b"x" * 100_000)
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        np.savez = killed
        model.save(target)
    """)
    assert proc.returncode == -signal.SIGKILL
    left = os.listdir(tmp_path)
    assert len(left) == 1 and left[0].startswith(".tmp-")  # SIGKILL cannot be caught
    small_net().save(tmp_path / "net.npz")
    assert os.listdir(tmp_path) == ["net.npz"]


def test_stale_temp_files_of_the_target_are_removed_and_others_kept(tmp_path):
    from cnnbook import serialize
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / serialize._temp_name("net.npz", dead_pid)
    stale.write_bytes(b"half a file")
    mine = tmp_path / serialize._temp_name("net.npz", os.getpid())  # a save in progress in this process
    mine.write_bytes(b"in progress")
    other_target = tmp_path / serialize._temp_name("other.npz", dead_pid)
    other_target.write_bytes(b"someone else's")
    user_file = tmp_path / ".tmp-notes.txt"
    user_file.write_text("not ours")
    small_net().save(tmp_path / "net.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(["net.npz", mine.name, other_target.name, user_file.name])
    small_net().save(tmp_path / "other.npz")
    assert other_target.name not in os.listdir(tmp_path)


# ---------------------------------------------------------------- the one file writer
def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path):
    from cnnbook.serialize import atomic_file, write_atomic
    path = tmp_path / "notes.txt"
    write_atomic(path, b"old")
    with pytest.raises(RuntimeError, match="check failed"):
        with atomic_file(path, suffix=".gz") as f:
            f.write(b"half of the new")
            assert f.name.endswith(".gz") and os.path.dirname(f.name) == str(tmp_path)
            raise RuntimeError("check failed")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["notes.txt"]
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["notes.txt"]


def test_a_folder_is_swapped_in_whole_merged_or_left_as_it_was(tmp_path):
    from cnnbook.serialize import atomic_folder
    out = tmp_path / "book"
    umask = os.umask(0)
    os.umask(umask)
    with atomic_folder(out) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and not any(tmp.iterdir())
        (tmp / "a.html").write_text("1")
    assert os.listdir(tmp_path) == ["book"] and (out / "a.html").read_text() == "1"
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's private 0o700
    with pytest.raises(RuntimeError, match="build failed"):
        with atomic_folder(out) as tmp:
            (tmp / "b.html").write_text("half")
            raise RuntimeError("build failed")
    assert os.listdir(tmp_path) == ["book"] and os.listdir(out) == ["a.html"]
    with atomic_folder(out) as tmp:  # replaced whole: a.html goes
        (tmp / "b.html").write_text("2")
    assert os.listdir(tmp_path) == ["book"] and os.listdir(out) == ["b.html"]
    with atomic_folder(out, merge=True) as tmp:  # merged: b.html is replaced, the learner's notes stay
        (out / "notes.txt").write_text("mine")
        (tmp / "b.html").write_text("3")
    assert sorted(os.listdir(out)) == ["b.html", "notes.txt"] and (out / "b.html").read_text() == "3"
    assert os.listdir(tmp_path) == ["book"]


def test_a_write_into_a_folder_it_may_not_write_names_the_target(tmp_path):
    from cnnbook.serialize import write_atomic
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as info:
            write_atomic(folder / "notes.txt", b"x")
    finally:
        folder.chmod(0o755)
    assert str(folder / "notes.txt") in str(info.value) and ".tmp-" not in str(info.value)
    assert os.listdir(folder) == []
