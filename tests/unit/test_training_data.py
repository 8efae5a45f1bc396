"""The Fashion-MNIST loader, its validation, the split and the long-tailed sampler."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from tests.conftest import write_idx
from training import data


def _pair(tmp_path, n=20, labels=None):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10 if labels is None else labels
    write_idx(tmp_path, "train", images, labels)
    write_idx(tmp_path, "t10k", images[:10], labels[:10])
    return images, labels


def test_reads_generated_idx_files_exactly(tmp_path):
    images, labels = _pair(tmp_path)
    train, test, source = data.load_raw(tmp_path)
    assert source == str(tmp_path)
    np.testing.assert_array_equal(train.x, images)
    np.testing.assert_array_equal(train.y, labels)
    assert test.x.shape == (10, 28, 28)


def test_real_dataset_has_expected_shape(fashion_mnist):
    train, test = fashion_mnist
    assert train.x.shape == (60000, 28, 28) and test.x.shape == (10000, 28, 28)
    assert np.bincount(test.y).tolist() == [1000] * 10


def test_missing_file_names_it_and_says_how_to_get_it(tmp_path):
    with pytest.raises(
        data.DataError, match="train-images-idx3-ubyte.gz is missing.*apt-get install dataset-fashion-mnist"
    ):
        data.load_raw(tmp_path)


def test_wrong_magic_number(tmp_path):
    _pair(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + bytes(100)))
    with pytest.raises(data.DataError, match="train-labels.*magic 2051, expected 2049"):
        data.load_raw(tmp_path)


def test_truncated_file(tmp_path):
    _pair(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(data.DataError, match="truncated or corrupt"):
        data.load_raw(tmp_path)


def test_damaged_gzip(tmp_path):
    _pair(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(data.DataError, match="t10k-images.*damaged"):
        data.load_raw(tmp_path)


def test_label_out_of_range_and_count_mismatch(tmp_path):
    _pair(tmp_path, labels=np.full(20, 12, np.uint8))
    with pytest.raises(data.DataError, match="label 12"):
        data.load_raw(tmp_path)
    images = np.zeros((5, 28, 28), np.uint8)
    write_idx(tmp_path, "train", images, np.zeros(4, np.uint8))
    with pytest.raises(data.DataError, match="5 images but .* 4 labels"):
        data.load_raw(tmp_path)


def test_cli_reports_data_errors_without_traceback(tmp_path, capsys):
    from training.__main__ import main

    assert main(["--data-dir", str(tmp_path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_validation_split_is_stratified_and_disjoint(fashion_mnist):
    train, _ = fashion_mnist
    fit, val = data.stratified_split(train, 1 / 12, seed=0)
    assert len(fit.y) + len(val.y) == 60000
    assert np.bincount(val.y).tolist() == [500] * 10
    fit2, val2 = data.stratified_split(train, 1 / 12, seed=0)
    np.testing.assert_array_equal(val.y, val2.y)


def test_long_tail_counts_are_exact():
    counts = data.long_tail_counts(5000, 100)
    assert counts[0] == 5000 and counts[-1] == 50
    assert counts.tolist() == [int(np.floor(5000 * 100 ** (-r / 9) + 1e-9)) for r in range(10)]
    assert all(a > b for a, b in zip(counts, counts[1:]))


def test_long_tailed_sampler_follows_rare_order():
    y = np.repeat(np.arange(10, dtype=np.uint8), 200)
    x = np.repeat(y[:, None, None], 28, axis=1).repeat(28, axis=2)
    order = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    split = data.make_long_tailed(data.Split(x, y), ratio=10, rare_order=order)
    got = np.bincount(split.y, minlength=10)
    expected = data.long_tail_counts(200, 10)
    assert [got[c] for c in order] == expected.tolist()
    assert (split.x[:, 0, 0] == split.y).all()  # images stay with their labels
    with pytest.raises(ValueError, match="rare-order"):
        data.make_long_tailed(data.Split(x, y), 10, rare_order=[0, 1])
