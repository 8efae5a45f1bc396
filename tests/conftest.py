"""Shared fixtures: the repository layout, Fashion-MNIST (real where installed) and the bundled model."""

from __future__ import annotations

import gzip
import os
import signal
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow (CI=true runs them too)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: tens of seconds each (training runs, kill tests); run with --slow or CI")
    # A shell without job control starts a background command (`bash .ci/run &`, with or without nohup,
    # which only ignores SIGHUP) with SIGINT ignored, and Python then never turns Ctrl+C into
    # KeyboardInterrupt, here or in the programs the Ctrl+C tests start: three of them failed so. Take
    # Python's own handler back; the children then start with the default, as from a terminal.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config, items):
    """The default run stays quick; ``--slow`` (and CI, which sets CI=true) runs everything."""
    if config.getoption("--slow") or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="slow: run with ./test.sh --slow (CI runs every test)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


SHARED = REPO.parent / "shared"


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Write an IDX image/label pair as gzip files, the way Fashion-MNIST ships."""
    n = len(images)
    img_header = (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (n, 28, 28))
    lab_header = (2049).to_bytes(4, "big") + len(labels).to_bytes(4, "big")
    (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(img_header + images.tobytes()))
    (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(lab_header + labels.tobytes()))


@pytest.fixture(scope="session")
def fashion_mnist():
    """(train, test) Splits: the real data set when installed, else a small synthetic one."""
    from training import data

    try:
        train, test, _ = data.load_raw()
        return train, test
    except data.DataError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory, fashion_mnist):
    """A data folder in Fashion-MNIST's file format with 1,200 training and 300 test images."""
    train, test = fashion_mnist
    folder = tmp_path_factory.mktemp("fmnist-small")
    rng = np.random.default_rng(0)
    tr = rng.permutation(len(train.y))[:1200]
    te = rng.permutation(len(test.y))[:300]
    write_idx(folder, "train", train.x[tr], train.y[tr])
    write_idx(folder, "t10k", test.x[te], test.y[te])
    return folder


def photo_input_shape(classifier, worn: bool = False) -> tuple[int, ...]:
    """The shape of a photo's model input with ``classifier``: (28, 28) gray, or (64, 64, 3) when the
    model that judges it (``worn``: a garment on a person) is a colour one."""
    shape = classifier.for_photos(worn=worn).input_shape
    return shape[:2] if shape[-1] == 1 else shape


@pytest.fixture(scope="session")
def classifier():
    """The real bundled model, loaded once."""
    from fashion_desktop.core.classifier import Classifier

    return Classifier.load()


class SmallDisk:
    """A real 256 KB file system (tmpfs) at ``path``; ``fill()`` takes its last free block."""

    def __init__(self, path: Path):
        self.path = path

    def fill(self) -> None:
        import errno

        with open(self.path / ".filler", "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        try:  # prove it: not even a small file fits now
            (self.path / ".probe").write_bytes(b"x" * 8192)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        else:
            raise AssertionError("the small file system is not full")
        finally:
            (self.path / ".probe").unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path):
    """A real small file system, so that "disk full" is the kernel's ENOSPC, not a simulation.

    Needs root (mount); skipped elsewhere."""
    import subprocess

    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip() or 'not root'})")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def save_tiny_model(folder: Path, *, softmax: bool = True, bias=None, shape=(28, 28, 1)) -> Path:
    """A real ``shape`` -> 10 Keras model of allowed layers only, saved in ``folder`` with a model.json
    that vouches for it (its sha256 and the ten classes)."""
    import hashlib
    import json

    import keras

    from fashion_desktop.core import CLASS_NAMES

    image = keras.Input(shape, name="image")
    x = keras.layers.Rescaling(1 / 255)(image)
    x = keras.layers.Flatten()(x)
    dense = keras.layers.Dense(10)
    x = dense(x)
    if softmax:
        x = keras.layers.Softmax()(x)
    model = keras.Model(image, x)
    if bias is not None:
        dense.bias.assign(np.asarray(bias, np.float32))
    folder.mkdir()
    model.save(folder / "model.keras")
    data = (folder / "model.keras").read_bytes()
    meta = {"file": "model.keras", "sha256": hashlib.sha256(data).hexdigest(), "class_names": list(CLASS_NAMES)}
    (folder / "model.json").write_text(json.dumps(meta))
    return folder
