"""The layers' threads (cnnbook/layers/parallel.py) and how many there are (cnnbook.backend.available_cpus):
results the same bit for bit whatever the thread count, the count taken from affinity, cgroup quota,
environment or the API, and no thread left behind."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from cnnbook import backend, layers
from cnnbook.layers import parallel
from cnnbook.models import reference_cnn
from cnnbook.optim import SGD
from cnnbook.train import fit


@pytest.fixture
def small_pieces(monkeypatch):
    """The tests' arrays are small: let every piece go to the threads, however few numbers it holds, and cut
    pooling's batches into pieces of one image."""
    monkeypatch.setattr(parallel, "MIN_PIECE_SIZE", 0)
    monkeypatch.setattr(parallel, "PIECE_NUMBERS", 1)


def layer_threads_alive():
    return [t for t in threading.enumerate() if t.name.startswith(parallel.THREAD_NAME)]


def conv_step(x, w, b, dout, stride, padding):
    out, cache = layers.conv2d_forward(x, w, b, stride, padding)
    return (out, *layers.conv2d_backward(dout, cache))


def same_bits(a, b):
    assert len(a) == len(b)
    for got, want in zip(a, b):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# (N, C, F, H, W, stride, padding): images one after another (outputs >= 14 wide) and side by side (narrower: 12
# images in 4 groups of 3, a prime batch in one group); odd batches; batches smaller than the thread count; one
# image; an empty batch
CASES = [(16, 8, 16, 14, 14, 1, 1), (13, 3, 8, 28, 28, 1, 1), (7, 32, 16, 7, 7, 1, 1), (12, 8, 8, 7, 7, 1, 1),
         (5, 4, 6, 13, 11, 2, 0), (2, 3, 5, 9, 9, 1, 2), (1, 2, 3, 16, 16, 1, 1), (3, 5, 4, 5, 6, 1, 0),
         (0, 3, 4, 8, 8, 1, 1)]


@pytest.mark.parametrize("N,C,F,H,W,stride,padding", CASES)
@pytest.mark.parametrize("threads", [2, 3, 8])
def test_convolution_on_several_threads_gives_the_same_bits_as_one(N, C, F, H, W, stride, padding, threads,
                                                                   small_pieces):
    rng = np.random.default_rng(N * 100 + H)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((F, C, 3, 3), dtype=np.float32)
    b = rng.standard_normal(F, dtype=np.float32)
    Ho, Wo = (H + 2 * padding - 3) // stride + 1, (W + 2 * padding - 3) // stride + 1
    dout = rng.standard_normal((N, F, Ho, Wo), dtype=np.float32)
    with backend.blas_threads(1):
        serial = conv_step(x, w, b, dout, stride, padding)
    with backend.blas_threads(threads):
        threaded = conv_step(x, w, b, dout, stride, padding)
    same_bits(threaded, serial)
    # and both are the convolution: the naive loops agree within float32 rounding
    out, cache = layers.conv2d_forward_naive(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                                             stride, padding)
    naive = (out, *layers.conv2d_backward_naive(dout.astype(np.float64), cache))
    for got, want in zip(threaded, naive):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(want).max(initial=0))))


@pytest.mark.parametrize("cpus,multiple", [(1, 1), (2, 4), (4, 4), (6, 8), (8, 8), (16, 16)])
def test_the_blocks_are_a_multiple_of_the_cpus_rounded_up_to_a_power_of_two(cpus, multiple, monkeypatch):
    from cnnbook.layers import conv
    monkeypatch.setattr(conv, "available_cpus", lambda: cpus)
    assert conv.block_multiple() == multiple
    blocks = conv._blocks((64, 14, 14, 1), 144, np)  # 64 images, 16->32 channels: 4 blocks of 16, or more
    assert len(blocks) == max(4, multiple) and len({b.stop - b.start for b in blocks}) == 1  # equal blocks
    assert [b.start for b in blocks] == sorted(b.start for b in blocks) and blocks[-1].stop == 64
    # 7x7 outputs, 32->64 channels: images side by side, in as many groups as blocks (each block holding at least
    # MIN_PIECE_SIZE numbers), each group a block
    S64, S96 = {1: (64, 48), 2: (16, 24), 4: (16, 24), 6: (8, 12), 8: (8, 12), 16: (8, 6)}[cpus]
    assert conv.side_by_side(64, (7, 7), 288, np) == S64 and conv.side_by_side(96, (7, 7), 288, np) == S96
    assert conv._blocks((64 // S64, 7, 7, S64), 288, np) == [slice(g, g + 1) for g in range(64 // S64)]
    assert conv.side_by_side(97, (7, 7), 288, np) == 97  # a prime batch: one group, one block
    # ... unless it is no bigger than the blocks wanted (256 channels: 4 blocks even for 3 images): an image a group
    assert conv.side_by_side(3, (7, 7), 2304, np) == (3 if cpus == 1 else 1)
    assert conv.side_by_side(64, (14, 14), 144, np) == 1  # wide rows: images one after another
    # blocks too small to share out (a first layer: 9 numbers a column) stay as one thread runs them best
    assert len(conv._blocks((64, 28, 28, 1), 9, np)) == 13
    assert conv._blocks((64, 14, 14, 1), 144, strict_xp()) == [slice(0, 64)]  # CuPy: one block
    assert conv.side_by_side(64, (7, 7), 288, strict_xp()) == 64  # and one group


def strict_xp():
    from strict_array import strict_xp
    return strict_xp


@pytest.mark.parametrize("N", [1, 2, 7, 64])
@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 2)])
def test_max_pooling_on_several_threads_gives_the_same_bits_as_one(N, kernel, stride, small_pieces):
    rng = np.random.default_rng(N)
    x = rng.standard_normal((N, 3, 9, 8), dtype=np.float32)
    x[0, 0, :2, :2] = 1.5  # a tie: the first offset keeps the win on every thread count
    out_shape = layers.max_pool2d_forward(x, kernel, stride)[0].shape
    dout = rng.standard_normal(out_shape, dtype=np.float32)

    def steps():
        out, cache = layers.max_pool2d_forward(x, kernel, stride)
        return out, cache[1], layers.max_pool2d_backward(dout, cache)

    with backend.blas_threads(1):
        serial = steps()
    with backend.blas_threads(4):
        threaded = steps()
    same_bits(threaded, serial)


@pytest.mark.parametrize("shape", [(7, 3, 5, 4), (1, 6), (0, 3, 2, 2), (9,)])
def test_relu_on_several_threads_gives_the_same_bits_as_one_and_uses_them(shape, small_pieces, monkeypatch):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape, dtype=np.float32)
    if x.size:
        x.flat[0] = 0.0  # the gradient stops at 0 on every thread count
    dout = rng.standard_normal(shape, dtype=np.float32)
    views = [x, x.T] if x.ndim > 1 else [x]  # a transposed view too, as a batch-first convolution hands on

    def steps(x):
        out, cache = layers.relu_forward(x)
        return out, layers.relu_backward(dout.reshape(x.shape), cache)

    seen = set()
    elementwise = parallel.elementwise

    def watched(function, out, *arrays):
        def spy(*pieces, out):
            seen.add(threading.current_thread().name)
            time.sleep(0.001)  # long enough for a second thread to take a piece
            return function(*pieces, out=out)
        return elementwise(spy, out, *arrays)
    monkeypatch.setattr(parallel, "elementwise", watched)
    for view in views:
        with backend.blas_threads(1):
            serial = steps(view)
        assert seen == {threading.current_thread().name}  # one thread: one call, here
        seen.clear()
        with backend.blas_threads(3):
            threaded = steps(view)
        same_bits(threaded, serial)
        np.testing.assert_array_equal(serial[0], np.maximum(view, 0))
        np.testing.assert_array_equal(serial[1], dout.reshape(view.shape) * (view > 0))
        if view.shape[0] > 1 and view.size:  # more than one item: the pool's threads took pieces too
            assert len(seen) > 1, seen
        seen.clear()


def test_training_gives_the_same_numbers_on_one_and_on_several_threads(small_pieces):
    rng = np.random.default_rng(0)
    X = rng.random((50, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 50)

    def train(threads):
        model = reference_cnn(seed=0)
        with backend.blas_threads(threads):
            history = fit(model, X, y, epochs=2, batch_size=16, optimizer=SGD(model.parameters(), lr=0.05),
                          seed=0, progress=False)
        return history.epoch_loss, [p.data for p in model.parameters()]

    loss_1, params_1 = train(1)
    loss_3, params_3 = train(3)
    assert loss_1 == loss_3
    same_bits(params_3, params_1)


def threads_used(pieces, xp, size):
    seen = set()

    def work(k):
        seen.add(threading.current_thread().name)
        time.sleep(0.01)  # long enough for a second thread to take a piece
        return k * k
    assert parallel.run(work, range(pieces), xp, size=size) == [k * k for k in range(pieces)]
    return seen


def test_arrays_of_another_module_and_small_pieces_stay_on_the_calling_thread():
    from strict_array import strict_xp
    me = threading.current_thread().name
    with backend.blas_threads(4):
        assert threads_used(6, strict_xp, size=1 << 30) == {me}  # a stand-in for CuPy: never the pool
        assert parallel.chunks(10, 1 << 20, strict_xp) == [slice(0, 10)]
        assert threads_used(6, np, size=6 * parallel.MIN_PIECE_SIZE - 1) == {me}  # too small to share out
        assert len(threads_used(6, np, size=6 * parallel.MIN_PIECE_SIZE)) > 1
    with backend.blas_threads(1):
        assert threads_used(6, np, size=1 << 30) == {me}


def test_pieces_come_back_in_order_and_an_error_in_one_is_raised(small_pieces, monkeypatch):
    with backend.blas_threads(3):
        assert parallel.run(lambda k: k + 1, range(40), np, size=40) == list(range(1, 41))
        monkeypatch.setattr(parallel, "PIECE_NUMBERS", 100)  # chunks of about 100 numbers, on any thread count
        assert parallel.chunks(7, 50, np) == [slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 7)]
        assert parallel.chunks(3, 500, np) == [slice(0, 1), slice(1, 2), slice(2, 3)]  # at least an item each
        assert parallel.chunks(0, 10, np) == [slice(0, 0)]

        def fails_at_five(k):
            if k == 5:
                raise ValueError("piece 5 is bad")
            return k
        with pytest.raises(ValueError, match="piece 5 is bad"):
            parallel.run(fails_at_five, range(20), np, size=20)
        assert parallel.run(lambda k: k, range(3), np, size=3) == [0, 1, 2]  # the pool still works afterwards


def test_the_pool_starts_on_first_use_and_shutdown_stops_its_threads(small_pieces):
    parallel.shutdown()
    assert layer_threads_alive() == []
    with backend.blas_threads(3):
        parallel.run(lambda k: time.sleep(0.01), range(10), np, size=10)
    assert 1 <= len(layer_threads_alive()) <= 2  # the calling thread is the third
    parallel.shutdown()
    assert layer_threads_alive() == []


def run_python(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_starts_no_thread_and_a_process_that_used_the_pool_exits():
    # no thread on import; after a threaded layer the interpreter exits on its own (the pool is stopped at exit)
    out = run_python(
        "import threading\n"
        "before = threading.active_count()\n"
        "import numpy as np, cnnbook, cnnbook.layers, cnnbook.nn, cnnbook.train, cnnbook.models\n"
        "assert threading.active_count() == before, threading.enumerate()\n"
        "from cnnbook import backend, layers\n"
        "x = np.ones((64, 16, 32, 32), np.float32); w = np.ones((4, 16, 3, 3), np.float32)\n"
        "with backend.blas_threads(3):\n"
        "    layers.conv2d_forward(x, w, np.zeros(4, np.float32), 1, 1)\n"
        "print(sum(t.name.startswith('cnnbook-layer') for t in threading.enumerate()))\n")
    assert out.strip() == "2"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_a_forked_child_gets_a_pool_of_its_own():
    run_python(
        "import os, numpy as np\n"
        "from cnnbook import backend, layers\n"
        "x = np.ones((64, 16, 32, 32), np.float32); w = np.ones((4, 16, 3, 3), np.float32)\n"
        "b = np.zeros(4, np.float32)\n"
        "with backend.blas_threads(2):\n"
        "    want = layers.conv2d_forward(x, w, b, 1, 1)[0]\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        got = layers.conv2d_forward(x, w, b, 1, 1)[0]\n"  # would hang with the parent's dead pool
        "        os._exit(0 if (got == want).all() else 1)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "assert os.waitstatus_to_exitcode(status) == 0, status\n")


# ------------------------------------------------------------------ how many threads
@pytest.fixture
def cpus(monkeypatch, tmp_path):
    """``count(affinity, files)``: available_cpus() with ``affinity`` CPUs and cgroup files ``{path: text}``."""
    monkeypatch.delenv(backend.BLAS_THREADS_ENV, raising=False)

    def count(affinity, files=None):
        root = tmp_path / f"root{len(list(tmp_path.iterdir()))}"
        root.mkdir()
        for path, text in (files or {}).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
        backend.available_cpus.cache_clear()
        try:
            return backend.available_cpus(str(root))
        finally:
            backend.available_cpus.cache_clear()
    return count


def test_available_cpus_follow_the_affinity_and_the_cgroup_quota(cpus):
    assert cpus(8) == 8  # no cgroup files
    assert cpus(8, {"cpu.max": "max 100000\n"}) == 8
    assert cpus(8, {"cpu.max": "50000 100000\n"}) == 1  # a hub container with half a CPU
    assert cpus(8, {"cpu.max": "100000 100000\n"}) == 1
    assert cpus(8, {"cpu.max": "150000 100000\n"}) == 2  # rounded up
    assert cpus(2, {"cpu.max": "400000 100000\n"}) == 2  # never more than the affinity allows
    assert cpus(8, {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}) == 8
    assert cpus(8, {"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}) == 3
    assert cpus(8, {"cpu.max": "banana\n"}) == 8  # an unreadable quota is no quota
    assert cpus(1) == 1


def fake_proc_stat(path, busy_jiffies):
    """A /proc/stat whose CPUs 0, 1, 2, ... have been busy ``busy_jiffies[k]`` ticks (and idle 10**6)."""
    lines = ["cpu  0 0 0 0 0 0 0 0 0 0"]
    lines += [f"cpu{k} {busy} 0 0 1000000 0 0 0 0 0 0" for k, busy in enumerate(busy_jiffies)]
    path.write_text("\n".join(lines + ["intr 0", "ctxt 0"]) + "\n")


def test_the_default_leaves_the_cores_other_processes_keep_busy(monkeypatch, tmp_path):
    stat, hz = tmp_path / "stat", os.sysconf("SC_CLK_TCK")
    clock, mine = [100.0], [5.0]
    monkeypatch.setattr(backend, "PROC_STAT", str(stat))
    monkeypatch.setattr(backend, "_busy_sample", None)
    monkeypatch.setattr(backend, "available_cpus", lambda: 4)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(backend.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(backend.time, "process_time", lambda: mine[0])

    def after(seconds, busy_cores, my_cores):  # the next look, ``seconds`` later
        clock[0] += seconds
        mine[0] += my_cores * seconds
        totals[:] = [t + b * seconds * hz for t, b in zip(totals, busy_cores)]
        fake_proc_stat(stat, [round(t) for t in totals])
        return backend.default_threads()

    totals = [0.0] * 4
    fake_proc_stat(stat, [0] * 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.7, 0.0, 0.0))
    assert backend.default_threads() == 2  # a first look goes by the load average: two cores busy
    monkeypatch.setattr(backend, "_busy_sample", None)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert backend.default_threads() == 4
    assert after(1.0, [1, 1, 0, 0], 2) == 4  # the busy cores were ours
    assert after(1.0, [1, 1, 1, 0], 2) == 3  # one core busy with another process
    assert after(0.1, [1, 1, 1, 1], 2) == 3  # looked at again only after BUSY_WINDOW_S
    assert after(1.0, [1, 1, 0.6, 0.6], 2) == 3  # 1.2 cores elsewhere: one left to them
    assert after(1.0, [1, 1, 1, 1], 0) == 1  # all busy elsewhere: still one thread
    assert after(1.0, [0.4, 0, 0, 0], 0) == 4  # less than half a core: not worth leaving


def test_without_proc_stat_the_default_is_every_available_cpu(monkeypatch, tmp_path):
    monkeypatch.setattr(backend, "PROC_STAT", str(tmp_path / "missing"))
    monkeypatch.setattr(backend, "_busy_sample", None)
    assert backend.default_threads() == backend.available_cpus()
    assert backend.default_threads() == backend.available_cpus()


def test_the_thread_count_comes_from_the_api_then_the_environment_then_the_cpus(monkeypatch, tmp_path):
    monkeypatch.delenv(backend.BLAS_THREADS_ENV, raising=False)
    monkeypatch.setattr(backend, "PROC_STAT", str(tmp_path / "missing"))  # the default: every available CPU
    monkeypatch.setattr(backend, "_busy_sample", None)
    assert backend.layer_threads() == backend.available_cpus() >= 1
    with backend.blas_threads() as n:
        assert n == backend.layer_threads() == backend.available_cpus()
    monkeypatch.setenv(backend.BLAS_THREADS_ENV, "3")
    assert backend.layer_threads() == 3
    with backend.blas_threads(5) as n:
        assert n == backend.layer_threads() == 5
        with backend.blas_threads():  # an inner default keeps the outer block's
            assert backend.layer_threads() == 5
    with backend.blas_threads():
        assert backend.layer_threads() == 3
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv(backend.BLAS_THREADS_ENV, bad)
        with pytest.raises(ValueError, match=rf"\$CNNBOOK_BLAS_THREADS='{bad}' must be a positive integer.*unset it"):
            backend.layer_threads()
        with pytest.raises(ValueError, match="CNNBOOK_BLAS_THREADS"):
            layers.max_pool2d_forward(np.ones((2, 3, 4, 4), np.float32))
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="must be a positive integer"):
            with backend.blas_threads(bad):
                pass
