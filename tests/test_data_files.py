"""Damaged copies and downloads of the official Fashion-MNIST files.

The tests swap the four official files for small fake ones (same format, their own hashes), so they
run in milliseconds without the real data; a local HTTP server on 127.0.0.1 stands in for the mirrors.
"""
import builtins
import gzip
import hashlib
import http.server
import os
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from cnnbook.data import DataError, download, fashion, load_fashion_mnist
from cnnbook.data.idx import parse_idx

SIZES = {"train": 30, "test": 20}
REPO_SUBSET = Path(fashion.DATA_DIR) / fashion.SUBSET_FILE  # read before a test patches DATA_DIR


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake_official(monkeypatch):
    """Small stand-ins for the official files: {file name: uncompressed bytes}; OFFICIAL points at them."""
    rng = np.random.default_rng(0)
    files, official = {}, {}
    for split, n in SIZES.items():
        prefix = "train" if split == "train" else "t10k"
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images", images), ("labels", labels)):
            name = f"{prefix}-{kind}-idx{array.ndim}-ubyte"
            files[name] = idx_bytes(array)
            official[(split, kind)] = (name, hashlib.sha256(files[name]).hexdigest(), array.shape)
    monkeypatch.setattr(fashion, "OFFICIAL", official)
    return files


def write(folder, files, gz=True):
    for name, raw in files.items():
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw, mtime=0))
        else:
            (folder / name).write_bytes(raw)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("gz", [True, False])
def test_good_files_load(tmp_path, fake_official, gz):
    write(tmp_path, fake_official, gz=gz)
    X, y = load_fashion_mnist("test", full=True, root=tmp_path, download=False)
    assert X.shape == (20, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    expected = np.frombuffer(fake_official["t10k-images-idx3-ubyte"][16:], np.uint8).reshape(20, 1, 28, 28)
    assert np.array_equal(X, expected / np.float32(255)) and np.array_equal(y, np.arange(20) % 10)


def damage_truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def damage_flip_byte(path):
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0x40
    path.write_bytes(bytes(raw))


def damage_magic(path):
    raw = bytearray(path.read_bytes())
    raw[2] = 0x07
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("gz, damage, message", [
    (True, damage_truncate, "not a complete gzip file"),
    (False, damage_truncate, "is truncated"),
    (True, damage_flip_byte, "gzip|altered"),
    (False, damage_flip_byte, "has been altered: the SHA-256 of its content is [0-9a-f]+, expected"),
    (False, damage_magic, "not an IDX file: its magic number is 00000703"),
])
def test_damaged_file_is_named_and_folder_untouched(tmp_path, fake_official, gz, damage, message):
    write(tmp_path, fake_official, gz=gz)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    damage(tmp_path / name)
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=message) as info:
        load_fashion_mnist("test", full=True, root=tmp_path, download=False)
    assert name in str(info.value) and "good copy" in str(info.value)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("count, message", [
    (19, r"holds a uint8 array of shape \(19,\), expected uint8 \(20,\)"),
    (21, "holds more than the expected 28 bytes"),
])
def test_wrong_count_in_header_is_reported(tmp_path, fake_official, count, message):
    fake_official["t10k-labels-idx1-ubyte"] = idx_bytes(np.zeros(count, np.uint8))
    write(tmp_path, fake_official)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz " + message):
        load_fashion_mnist("test", full=True, root=tmp_path, download=False)


def test_missing_file_is_named(tmp_path, fake_official):
    write(tmp_path, {k: v for k, v in fake_official.items() if k != "t10k-labels-idx1-ubyte"})
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\(\.gz\) is missing: looked in .*download=True"):
        load_fashion_mnist("test", full=True, root=tmp_path, download=False)
    assert snapshot(tmp_path) == before


def test_parse_idx_other_types_and_extra_bytes():
    a = np.array([[1, -2], [300, 4]], dtype=">i2")
    raw = struct.pack(">BBBBII", 0, 0, 0x0B, 2, 2, 2) + a.tobytes()
    out = parse_idx(raw)
    assert out.dtype == np.int16 and out.dtype.isnative and np.array_equal(out, a)
    with pytest.raises(DataError, match="longer than its header says"):
        parse_idx(raw + b"\0", name="x.idx")
    with pytest.raises(DataError, match="only 2 bytes"):
        parse_idx(b"\0\0")


# ---- downloads from a local server ----------------------------------------------------------

HANG_SECONDS = 10  # the stalling modes give up after this long, so a client that never gives up fails, not hangs


class Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}  # set per test: URL path -> bytes
    stop = threading.Event()  # set when the test ends: the stalling modes stop at once

    def do_GET(self):
        mode, _, name = self.path.lstrip("/").partition("/")
        body = self.files.get(name) if mode in ("good", "bad", "broken", "trickle", "silent", "silent-body") else None
        if body is None:
            self.send_error(404)
            return
        if mode == "silent":  # accept the request, never answer
            self.stop.wait(HANG_SECONDS)
            self.close_connection = True
            return
        if mode in ("trickle", "silent-body"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            if mode == "trickle":  # about 50 bytes a second, far below any useful rate, for HANG_SECONDS
                for i in range(min(len(body), 50 * HANG_SECONDS)):
                    if self.stop.wait(0.02):
                        break
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
            else:
                self.stop.wait(HANG_SECONDS)
            self.close_connection = True
            return
        if mode == "bad":
            body = body[:-50] + bytes(50)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "broken":  # announce the whole file, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(fake_official):
    Handler.files = {name + ".gz": gzip.compress(raw, mtime=0) for name, raw in fake_official.items()}
    Handler.stop = threading.Event()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = False  # server_close() then waits for every handler thread
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        Handler.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_download_good_files(tmp_path, server):
    X, y = load_fashion_mnist("train", full=True, root=tmp_path, mirrors=[server + "/good/"], progress=False)
    assert X.shape == (30, 1, 28, 28) and np.array_equal(y, np.arange(30) % 10)
    assert sorted(os.listdir(tmp_path)) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    X2, _ = load_fashion_mnist("train", full=True, root=tmp_path, download=False)  # now found locally
    assert np.array_equal(X, X2)


def test_download_falls_back_to_the_next_mirror(tmp_path, server):
    mirrors = [server + "/missing/", server + "/bad/", server + "/broken/", server + "/good/"]
    X, _ = load_fashion_mnist("test", full=True, root=tmp_path, mirrors=mirrors, progress=False)
    assert X.shape == (20, 1, 28, 28)
    assert sorted(os.listdir(tmp_path)) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.mark.parametrize("mode, message", [
    ("bad", "not a complete gzip file|altered"),
    ("broken", "broke off after [0-9]+ of [0-9]+ bytes"),
    ("missing", "HTTP Error 404"),
])
def test_failed_download_leaves_nothing(tmp_path, server, mode, message):
    with pytest.raises(DataError, match=message) as info:
        load_fashion_mnist("test", full=True, root=tmp_path, mirrors=[server + f"/{mode}/"], progress=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_download_into_download_dir_when_no_root(tmp_path, server, monkeypatch):
    (tmp_path / "env").mkdir()
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(fashion, "DOWNLOAD_DIR", str(tmp_path / "cache" / "cnnbook"))  # made when missing
    monkeypatch.setattr(fashion, "DEBIAN_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path / "env"))
    load_fashion_mnist("test", full=True, mirrors=[server + "/good/"], progress=False)
    assert sorted(os.listdir(tmp_path / "cache" / "cnnbook")) == ["t10k-images-idx3-ubyte.gz",
                                                                  "t10k-labels-idx1-ubyte.gz"]
    assert os.listdir(tmp_path / "env") == []


def test_failed_download_removes_the_download_folder_it_made(tmp_path, server, monkeypatch):
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(fashion, "DOWNLOAD_DIR", str(tmp_path / "cache" / "cnnbook"))
    monkeypatch.setattr(fashion, "DEBIAN_DIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CNNBOOK_DATA", raising=False)
    with pytest.raises(DataError, match="HTTP Error 404"):
        load_fashion_mnist("test", full=True, mirrors=[server + "/missing/"], progress=False)
    assert os.listdir(tmp_path) == []


def test_search_order_env_first(tmp_path, fake_official, monkeypatch):
    env, debian = tmp_path / "env", tmp_path / "debian"
    env.mkdir()
    debian.mkdir()
    write(debian, fake_official)
    write(env, {"t10k-labels-idx1-ubyte": fake_official["t10k-labels-idx1-ubyte"]}, gz=False)
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(fashion, "DEBIAN_DIR", str(debian))
    monkeypatch.setenv("CNNBOOK_DATA", str(env))
    found = fashion.locate_fashion_mnist()
    assert found["t10k-labels-idx1-ubyte"] == str(env / "t10k-labels-idx1-ubyte")
    assert found["t10k-images-idx3-ubyte"] == str(debian / "t10k-images-idx3-ubyte.gz")
    X, y = load_fashion_mnist("test", full=True, download=False)
    assert X.shape == (20, 1, 28, 28)


# ---- mirrors that make no real progress -------------------------------------------------------

@pytest.fixture
def quick_stall(monkeypatch):
    """Give up on a mirror after half a second without real progress (the defaults: 30 s, 1 KiB/s)."""
    monkeypatch.setattr(download, "STALL_SECONDS", 0.5)
    monkeypatch.setattr(download, "MIN_BYTES_PER_SECOND", 1000.0)


@pytest.mark.parametrize("mode, message", [
    ("trickle", r"no real progress: [0-9]+ bytes/s over the last [0-9]+ s \(under 1000 bytes/s\)"),
    ("silent", "no reply for 0.5 s"),
    ("silent-body", "no data for 0.5 s after 0 bytes"),
])
def test_a_mirror_without_progress_is_abandoned(tmp_path, server, quick_stall, mode, message):
    url = f"{server}/{mode}/t10k-images-idx3-ubyte.gz"
    with pytest.raises(DataError, match=message) as info:
        load_fashion_mnist("test", full=True, root=tmp_path, mirrors=[server + f"/{mode}/"], progress=False)
    assert url in str(info.value) and f"good copy of t10k-images-idx3-ubyte.gz into {tmp_path}" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_a_stalled_mirror_hands_over_to_the_next(tmp_path, server, quick_stall):
    mirrors = [server + "/silent/", server + "/trickle/", server + "/good/"]
    X, _ = load_fashion_mnist("test", full=True, root=tmp_path, mirrors=mirrors, progress=False)
    assert X.shape == (20, 1, 28, 28)
    assert sorted(os.listdir(tmp_path)) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_download_thresholds_are_checked(tmp_path, server):
    with pytest.raises(ValueError, match="stall_seconds=0.0 must be > 0"):
        download.download_verified("x.gz", str(tmp_path), [server], verify=print, stall_seconds=0)


# ---- root, $CNNBOOK_DATA and what sits where a data file should be ------------------------------

def test_root_that_does_not_exist_is_said_and_nothing_is_created(tmp_path, server):
    root = tmp_path / "typo" / "deeper"
    with pytest.raises(DataError, match=f"root='{root}' does not exist: create it first"):
        load_fashion_mnist("test", full=True, root=root, mirrors=[server + "/missing/"], progress=False)
    assert os.listdir(tmp_path) == []


def test_root_that_is_a_file_is_said(tmp_path, server):
    root = tmp_path / "notes.txt"
    root.write_text("not a folder")
    with pytest.raises(DataError, match=f"root='{root}' is a file, not a folder"):
        load_fashion_mnist("test", full=True, root=root, mirrors=[server + "/good/"], progress=False)
    assert root.read_text() == "not a folder"


@pytest.mark.parametrize("full", [True, False])
def test_cnnbook_data_naming_a_missing_folder_is_said(tmp_path, monkeypatch, fake_official, full):
    missing = tmp_path / "datsets"
    monkeypatch.setenv("CNNBOOK_DATA", str(missing))
    with pytest.raises(DataError, match=f"CNNBOOK_DATA='{missing}' does not exist: create that folder"):
        load_fashion_mnist("test", full=full, download=False)
    with pytest.raises(DataError, match="CNNBOOK_DATA"):
        fashion.locate_fashion_mnist()
    assert os.listdir(tmp_path) == []


def test_cnnbook_data_may_hold_the_subset(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path))
    assert fashion.subset_path() == os.path.join(tmp_path / "nowhere", fashion.SUBSET_FILE)
    with pytest.raises(DataError, match="nowhere/fashion-mnist-subset.npz is missing"):
        load_fashion_mnist("test")
    (tmp_path / fashion.SUBSET_FILE).write_bytes(REPO_SUBSET.read_bytes())
    X, y = load_fashion_mnist("test")
    assert fashion.subset_path() == str(tmp_path / fashion.SUBSET_FILE)
    assert X.shape == (2000, 1, 28, 28) and np.all(np.bincount(y) == 200)


def make_folder(path):
    path.mkdir()


def make_fifo(path):
    os.mkfifo(path)


def make_broken_link(path):
    os.symlink(path.parent / "gone", path)


@pytest.mark.parametrize("make, kind", [(make_folder, "a folder"), (make_fifo, r"a named pipe \(FIFO\)"),
                                        (make_broken_link, "a broken symbolic link")])
def test_something_else_in_place_of_a_data_file_is_named(tmp_path, server, make, kind):
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    make(target)
    with pytest.raises(DataError, match=f"{target} is {kind}, not a data file: move it away") as info:
        load_fashion_mnist("test", full=True, root=tmp_path, mirrors=[server + "/missing/"], progress=False)
    assert "network" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == [target.name]


@pytest.mark.parametrize("make, kind", [(make_folder, "a folder"), (make_fifo, r"a named pipe \(FIFO\)")])
def test_something_else_in_place_of_the_subset_is_named(tmp_path, monkeypatch, make, kind):
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path))
    make(tmp_path / fashion.SUBSET_FILE)
    with pytest.raises(DataError, match=f"{tmp_path / fashion.SUBSET_FILE} is {kind}, not a data file"):
        load_fashion_mnist("test")


@pytest.fixture
def unreadable(monkeypatch):
    """``deny(path)``: opening ``path`` raises PermissionError, as for a file without read permission
    (the tests run as root, who may read anything, so ``open`` is patched)."""
    denied = set()
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if os.fspath(file) in denied if isinstance(file, (str, os.PathLike)) else False:
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    return lambda path: denied.add(os.fspath(path))


@pytest.mark.parametrize("gz", [True, False])
def test_an_unreadable_file_is_called_unreadable(tmp_path, fake_official, unreadable, gz):
    write(tmp_path, fake_official, gz=gz)
    path = tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))
    unreadable(path)
    with pytest.raises(DataError, match=f"{path} cannot be read: permission denied") as info:
        load_fashion_mnist("test", full=True, root=tmp_path, download=False)
    assert "truncated" not in str(info.value) and "Delete it" not in str(info.value)


def test_an_unreadable_subset_is_called_unreadable(tmp_path, monkeypatch, unreadable):
    copy = tmp_path / fashion.SUBSET_FILE
    copy.write_bytes(REPO_SUBSET.read_bytes())
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path))
    unreadable(copy)
    with pytest.raises(DataError, match=f"{copy} cannot be read: permission denied"):
        load_fashion_mnist("test")


def test_a_full_disk_is_named_and_no_other_mirror_is_tried(tmp_path, server, monkeypatch):
    from cnnbook import serialize

    class Full:
        """The download's temporary file on a full disk: every write fails."""
        def __init__(self, path, mode):
            self.file = open(path, mode)
            self.name = self.file.name

        def write(self, data):
            raise OSError(28, "No space left on device")

        def close(self):
            self.file.close()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(serialize, "open", Full, raising=False)  # the file atomic_file writes through
    with pytest.raises(DataError, match=f"cannot write the download to {tmp_path}/.tmp-t10k-images.*"
                                        "No space left on device") as info:
        load_fashion_mnist("test", full=True, root=tmp_path, mirrors=[server + "/good/", server + "/good/"],
                           progress=False)
    assert "network" not in str(info.value)
    assert os.listdir(tmp_path) == []
