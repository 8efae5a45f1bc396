"""The figures in README.md and docs/ match resources/model/model.json and the benchmarks that exist.

scripts/check_docs.py does the work (standard library only, no TensorFlow); ``--write`` fixes the tables.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def check_docs():
    spec = importlib.util.spec_from_file_location("check_docs", ROOT / "scripts" / "check_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def meta() -> dict:
    return json.loads((ROOT / "resources" / "model" / "model.json").read_text(encoding="utf-8"))


def test_the_docs_figures_match_model_json_and_the_benchmarks(check_docs):
    assert check_docs.problems() == []


def test_a_changed_model_json_figure_is_caught(check_docs, meta):
    changed = copy.deepcopy(meta)
    changed["metrics"]["accuracy"]["clean"] -= 0.01
    found = check_docs.problems(changed)
    assert any(p.startswith("README.md") and "model.json" in p for p in found)
    assert any(p.startswith("docs/model-card.md") for p in found)


def test_the_headline_table_holds_the_model_json_figures(check_docs, meta):
    table = check_docs.headline(meta)
    acc = meta["metrics"]["accuracy"]
    for key in ("clean", "gaussian_1.0", "gaussian_1.5", "gaussian_2.0", "motion_7"):
        assert f"{100 * acc[key]:.2f}%" in table
    assert f"{meta['parameters']:,}" in table
    assert f"{meta['known_threshold']:.3f}" in table
    rp = meta["metrics"]["real_photos"]
    assert f"{100 * rp['top1']:.1f}%" in table
    assert f"{100 * rp['known_judged_unknown_cross_fitted']:.1f}%" in table


def test_a_recorded_benchmark_line_is_compared_key_by_key(check_docs, capsys):
    text = check_docs.BENCHMARKS_MD.read_text(encoding="utf-8")
    m = next(check_docs.LAST_LINE.finditer(text))
    recorded = check_docs.parse_line(m.group("line"))
    assert check_docs.compare_last_line(m.group("script"), "noise\n" + m.group("line") + "\n", write=False) == 0
    key = next(iter(recorded))
    changed = m.group("line").replace(f"{key}={recorded[key]}", f"{key}=-1", 1)
    assert check_docs.compare_last_line(m.group("script"), changed, write=False) == 1
    assert key in capsys.readouterr().out


def test_a_renamed_module_named_in_the_docs_is_caught(check_docs):
    text = "See `core/images.py`, fashion_desktop/ui/display.py, training/install.py and core/frames.py."
    assert check_docs.missing_sources(text) == ["core/frames.py"]
