"""``fashion-classify`` as a user runs it: real files, real model, real exit codes."""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

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
            "region",
            "items",
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


def test_an_outfit_photo_gives_its_items_in_the_table_json_and_csv(tmp_path):
    outfit = SAMPLES / "people" / "outfit.jpg"
    table = run_cli(outfit)
    assert table.returncode == 0, table.stderr
    assert "also in the picture: " in table.stdout
    res = run_cli("--json", "--csv", tmp_path / "out.csv", outfit)
    assert res.returncode == 0, res.stderr
    row = json.loads(res.stdout)
    assert row["region"] and row["items"]
    for item in row["items"]:
        assert set(item) == {"label", "confidence", "known", "box", "region"}
        x0, y0, x1, y1 = item["box"]
        assert 0 <= x0 < x1 and 0 <= y0 < y1
    with open(tmp_path / "out.csv", newline="") as fh:
        (line,) = list(csv.DictReader(fh))
    assert line["region"] == row["region"]
    assert line["items"] == "; ".join(f"{i['label']} {100 * i['confidence']:.0f}%" for i in row["items"])


def test_usage_errors_exit_two():
    assert run_cli("--top-k", "0", "x.jpg").returncode == 2
    assert run_cli().returncode == 2


def test_missing_model_is_a_clear_error(folder, tmp_path):
    res = run_cli("--model-dir", tmp_path, folder / "a.jpg")
    assert res.returncode == 1
    assert "model.json" in res.stderr and "Traceback" not in res.stderr


# -- what a user can do to the CLI must give a message, never a traceback ------------------------------


def strict_json(line: str):
    """json.loads that refuses NaN and Infinity, which are not JSON."""

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=refuse)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """Enough copies of a sample that a run is still going when the test acts on its first line."""
    folder = tmp_path_factory.mktemp("many")
    photo = sorted(SAMPLES.glob("*.jpg"))[0].read_bytes()
    for i in range(120):
        (folder / f"{i:03d}.jpg").write_bytes(photo)
    return folder


def test_paths_that_cannot_be_looked_at_are_error_rows(folder, tmp_path):
    # ENAMETOOLONG and ENOTDIR make Path.exists() raise (or mislead) on some Pythons; each is one error row.
    too_long = tmp_path / ("x" * 300 + ".jpg")
    under_a_file = folder / "a.jpg" / "inside.jpg"
    res = run_cli("--json", too_long, under_a_file, folder / "a.jpg")
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    rows = [strict_json(line) for line in res.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(too_long), str(under_a_file), str(folder / "a.jpg")]
    assert "too long" in rows[0]["error"] and "Not a directory" in rows[1]["error"]
    assert "label" in rows[2]


def test_output_closed_early_ends_quietly(many, tmp_path):
    # `fashion-classify ... | head -1`: exit as a program killed by SIGPIPE would (141), with no traceback,
    # and the rows done so far still reach the CSV file.
    out_csv = tmp_path / "out.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fashion_desktop.cli", "--csv", str(out_csv), str(many)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip().endswith("000.jpg")
    proc.stdout.close()  # as `head -1` does once it has its line
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "output closed after" in err and str(out_csv) in err
    with open(out_csv, newline="") as fh:
        assert len(list(csv.DictReader(fh))) >= 1


def test_output_closed_early_without_csv_says_nothing(many):
    proc = subprocess.Popen(
        [sys.executable, "-m", "fashion_desktop.cli", str(many)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 141 and err == "", err


def _creates_files(folder: Path) -> bool:
    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


@pytest.mark.parametrize("case", ["a folder", "a missing folder", "under a file", "a pipe", "unwritable"])
def test_a_csv_target_that_cannot_be_written_stops_before_the_run(case, folder, tmp_path):
    target = {
        "a folder": tmp_path,
        "a missing folder": tmp_path / "no such folder" / "out.csv",
        "under a file": folder / "a.jpg" / "out.csv",
        "a pipe": tmp_path / "fifo.csv",
        "unwritable": Path("/sys/fashion-lens-results.csv"),
    }[case]
    if case == "a pipe":
        os.mkfifo(target)
    if case == "unwritable" and (not target.parent.is_dir() or _creates_files(target.parent)):
        pytest.skip("no folder here refuses new files")
    res = run_cli("--csv", target, folder / "a.jpg")
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""  # nothing ran: no model loaded, no picture classified
    assert res.stderr.startswith(f"fashion-classify: --csv {target}: ") and "Traceback" not in res.stderr
    assert not (tmp_path / "no such folder").exists()


def test_a_csv_write_that_fails_at_the_end_says_so(monkeypatch, capsys, classifier, folder, tmp_path):
    # The disk fills up during the run: the results are on stdout already; say the CSV was not written.
    from fashion_desktop import cli
    from fashion_desktop.core import atomic
    from fashion_desktop.core.classifier import Classifier

    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, model_dir=None: classifier))

    def disk_full(path, write, suffix=""):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "atomic_write", disk_full)
    code = cli.main(["--csv", str(tmp_path / "out.csv"), str(folder / "a.jpg")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "a.jpg" in out and "%" in out
    target = tmp_path / "out.csv"
    assert err == f"fashion-classify: the results above could not be written to {target} (No space left on device)\n"


def test_ctrl_c_saves_the_rows_done_so_far(many, tmp_path):
    out_csv = tmp_path / "out.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fashion_desktop.cli", "--no-progress", "--csv", str(out_csv), str(many)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    assert first.strip().endswith("000.jpg")
    proc.send_signal(signal.SIGINT)
    # Read on through the same buffered stream: readline() may already hold more lines than it returned,
    # which communicate() (reading the raw pipes) would never see.
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    printed = [line for line in (first + out).splitlines() if not line.startswith(" ")]
    with open(out_csv, newline="") as fh:
        saved = list(csv.DictReader(fh))
    assert 1 <= len(saved) < 120
    # what was shown is what was saved (a row may be saved whose line the interrupt cut short)
    assert [row["path"] for row in saved][: len(printed)] == printed and len(saved) - len(printed) in (0, 1)
    assert f"interrupted after {len(saved)} of 120; wrote {len(saved)} rows to {out_csv} (partial)" in err


def test_ctrl_c_before_the_first_row_leaves_an_earlier_csv_alone(monkeypatch, capsys, folder, tmp_path):
    from fashion_desktop import cli
    from fashion_desktop.core.classifier import Classifier

    def interrupted(cls, model_dir=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(Classifier, "load", classmethod(interrupted))
    out_csv = tmp_path / "out.csv"
    out_csv.write_text("an earlier run's results\n")
    assert cli.main(["--csv", str(out_csv), str(folder / "a.jpg")]) == 130
    assert capsys.readouterr().err == f"fashion-classify: interrupted after 0 of 1; {out_csv} was not written\n"
    assert out_csv.read_text() == "an earlier run's results\n"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that takes any bytes")
def test_a_file_name_that_is_not_utf8_keeps_its_bytes(tmp_path):
    photo = sorted(SAMPLES.glob("*.jpg"))[0].read_bytes()
    name = os.fsencode(tmp_path) + b"/caf\xe9.jpg"
    with open(name, "wb") as fh:
        fh.write(photo)
    out_csv = tmp_path / "out.csv"
    res = run_cli("--csv", out_csv, tmp_path)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "caf\\xe9.jpg" in res.stdout  # the table shows the byte it cannot decode, escaped
    with open(out_csv, newline="", encoding="utf-8", errors="surrogateescape") as fh:
        (row,) = csv.DictReader(fh)
    assert os.fsencode(row["path"]) == name  # the CSV names the very file
    res = run_cli("--json", tmp_path)
    (row,) = [strict_json(line) for line in res.stdout.splitlines()]
    assert os.fsencode(row["path"]) == name


def test_escape_sequences_in_names_do_not_reach_the_terminal(tmp_path):
    photo = sorted(SAMPLES.glob("*.jpg"))[0].read_bytes()
    (tmp_path / "red\x1b[31m.jpg").write_bytes(photo)
    (tmp_path / "title\x1b]0;pwned\x07.jpg").write_bytes(photo)
    (tmp_path / "clear\x1b[2J.png").write_bytes(b"not a picture")
    res = run_cli(tmp_path, tmp_path / "gone\x1b[5m.jpg")
    assert res.returncode == 1
    for stream in (res.stdout, res.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "red\\x1b[31m.jpg" in res.stdout and "title\\x1b]0;pwned\\x07.jpg" in res.stdout
    assert "error: clear\\x1b[2J.png" in res.stdout  # the error message names it escaped too
    assert "gone\\x1b[5m.jpg does not exist" in res.stdout
    res = run_cli("--json", tmp_path)
    assert "\x1b" not in res.stdout
    assert any(strict_json(line)["path"].endswith("red\x1b[31m.jpg") for line in res.stdout.splitlines())


def test_every_json_line_is_strict_json(folder):
    res = run_cli("--json", folder, folder / "missing.jpg")
    lines = res.stdout.splitlines()
    rows = [strict_json(line) for line in lines]
    assert len(rows) == 4 and sum("error" in r for r in rows) == 2


def test_a_model_that_gives_nan_is_an_error_row_not_bare_nan(monkeypatch, capsys, classifier, folder):
    # The classifier refuses such a model on load and on predict; should one get through anyway, the CLI
    # still prints JSON and says what is wrong instead of a confident "NaN%".
    import numpy as np

    from fashion_desktop import cli
    from fashion_desktop.core.classifier import Classifier

    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, model_dir=None: classifier))
    monkeypatch.setattr(type(classifier), "predict", lambda self, x: np.full((len(x), 10), np.nan, np.float32))
    code = cli.main(["--json", str(folder / "a.jpg"), str(folder / "nested" / "b.jpg")])
    out, err = capsys.readouterr()
    rows = [strict_json(line) for line in out.splitlines()]
    assert code == 1 and len(rows) == 2, err
    assert all("not numbers" in r["error"] for r in rows)
    code = cli.main([str(folder / "a.jpg")])
    out = capsys.readouterr().out
    assert code == 1 and "%" not in out and "not numbers" in out  # no "nan%" in the table either


def test_a_model_json_of_the_wrong_types_is_a_message(tmp_path, folder):
    meta = json.loads((REPO / "resources" / "model" / "model.json").read_text())
    meta["class_names"] = None
    (tmp_path / "model.json").write_text(json.dumps(meta))
    shutil.copy(REPO / "resources" / "model" / meta["file"], tmp_path / meta["file"])
    res = run_cli("--model-dir", tmp_path, folder / "a.jpg")
    assert res.returncode == 1
    assert res.stderr.startswith("fashion-classify: ") and "class" in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_an_unexpected_failure_to_load_is_a_message(monkeypatch, capsys, folder):
    from fashion_desktop import cli
    from fashion_desktop.core.classifier import Classifier

    def broken(cls, model_dir=None):
        raise TypeError("'NoneType' object is not iterable")

    monkeypatch.setattr(Classifier, "load", classmethod(broken))
    assert cli.main([str(folder / "a.jpg")]) == 1
    err = capsys.readouterr().err
    assert err == "fashion-classify: the model could not be loaded (TypeError: 'NoneType' object is not iterable)\n"


def test_fashion_mnist_test_images_as_png_files_get_the_models_own_answers(fashion_mnist, classifier, tmp_path, capsys):
    """Clean and blurred test images written as PNG files and run through fashion-classify get exactly what
    the model gives for the arrays themselves: the app adds no error of its own to dataset-style items."""
    import cv2
    import numpy as np

    from fashion_desktop.cli import main
    from training.evaluate import blurred_test_sets

    _, test = fashion_mnist
    sets = blurred_test_sets(test.x[:60])
    expected = {}
    for name, images in sets.items():
        folder = tmp_path / name
        folder.mkdir()
        for i, img in enumerate(images):
            cv2.imwrite(str(folder / f"{i:03d}.png"), img)
        probs = classifier.predict(images)
        for i in range(len(images)):
            expected[str(folder / f"{i:03d}.png")] = int(np.argmax(probs[i]))
    capsys.readouterr()
    assert main([str(tmp_path / name) for name in sets] + ["--json", "--no-progress"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == len(expected) == 60 * len(sets)
    assert {r["path"]: r["index"] for r in rows} == expected
