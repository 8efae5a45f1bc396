"""``fashion-classify`` as a user runs it: real files, real model, real exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

SAMPLES = REPO / "resources" / "samples"


def run_cli(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "fashion_desktop.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    sub = folder / "nested"
    sub.mkdir()
    photos = sorted(SAMPLES.glob("*.jpg"))
    (folder / "a.jpg").write_bytes(photos[0].read_bytes())
    (sub / "b.jpg").write_bytes(photos[1].read_bytes())
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "notes.txt").write_text("not a picture, and not an image suffix: skipped")
    return folder


def test_json_lines_for_a_folder_with_a_broken_file(folder, tmp_path):
    out_csv = tmp_path / "out.csv"
    res = run_cli("--json", "--csv", out_csv, folder)
    assert res.returncode == 1, res.stderr  # one input failed
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["path"].split("/")[-1] for r in rows] == ["a.jpg", "broken.png", "b.jpg"]
    good = [r for r in rows if "error" not in r]
    assert len(good) == 2
    for r in good:
        assert set(r) == {
            "path",
            "label",
            "index",
            "confidence",
            "probabilities",
            "blur",
            "known",
            "known_score",
            "known_threshold",
        }
        assert isinstance(r["known"], bool)
        assert len(r["probabilities"]) == 10 and abs(sum(r["probabilities"]) - 1) < 1e-3
        assert r["confidence"] == max(r["probabilities"])
        assert set(r["blur"]) == {"score", "threshold", "blurry"}
    bad = next(r for r in rows if "error" in r)
    assert "broken.png" in bad["error"]
    with open(out_csv, newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 3 and table[1]["error"]


def test_all_good_exits_zero_and_prints_a_table(folder):
    res = run_cli("--top-k", "3", folder / "a.jpg")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].endswith("a.jpg") and len(lines) == 4  # path, then the top 3 categories
    assert "%" in lines[1]


def test_usage_errors_exit_two():
    assert run_cli("--top-k", "0", "x.jpg").returncode == 2
    assert run_cli().returncode == 2


def test_missing_model_is_a_clear_error(folder, tmp_path):
    res = run_cli("--model-dir", tmp_path, folder / "a.jpg")
    assert res.returncode == 1
    assert "model.json" in res.stderr and "Traceback" not in res.stderr
