"""Property-based fuzzing of decoding and the whole analyze path with mutated real files and random bytes.

The property: every input either gives a picture (an RGB uint8 array, and an Analysis with finite
probabilities) or raises ImageError; nothing else escapes, no call takes over 2 s, none holds over 1 GB.
A small budget runs in every test run; FASHION_LENS_FUZZ_EXAMPLES raises it (benchmarks/fuzz.py runs
10,000 and more). Inputs that once failed are kept in tests/data/fuzz/ and replayed here.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from fuzz_inputs import hostile_files, peak_rss_mb, reset_peak_rss, seed_files
from hypothesis import HealthCheck, given, settings

from fashion_desktop.core.images import ImageError, load_image

EXAMPLES = int(os.environ.get("FASHION_LENS_FUZZ_EXAMPLES", "150"))
CORPUS = Path(__file__).resolve().parents[1] / "data" / "fuzz"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=2000,  # ms: a call over 2 s fails as a hang
    database=None,  # a run is judged on its own inputs; found failures are kept in tests/data/fuzz
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAX_CALL_MB = 1024


def _check_decoded(image: np.ndarray) -> None:
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] > 0 and image.shape[1] > 0 and image.flags.c_contiguous


def test_every_seed_file_decodes():
    """The fuzzer starts from files that are good: each one decodes (else mutations prove nothing)."""
    assert len(seed_files()) >= 20
    for name, data in seed_files():
        _check_decoded(load_image(data, name=name))


@FUZZ
@given(data=hostile_files())
def test_decoding_gives_a_picture_or_an_image_error(data: bytes):
    base = reset_peak_rss()
    try:
        _check_decoded(load_image(data))
    except ImageError as exc:
        assert str(exc)
    assert peak_rss_mb() - base < MAX_CALL_MB


@FUZZ
@given(data=hostile_files())
def test_analysis_gives_a_result_or_an_image_error(data: bytes, classifier):
    from fashion_desktop.core.analysis import analyze

    base = reset_peak_rss()
    t = time.perf_counter()
    try:
        a = analyze(data, classifier)
    except ImageError as exc:
        assert str(exc)
    else:
        probs = np.asarray(a.prediction.probabilities)
        assert np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-3
        # 28 x 28 gray, or 64 x 64 colour when a colour model (garments on a person) judged it
        assert a.model_input.shape in ((28, 28), (64, 64, 3)) and a.edges.shape == a.image.shape[:2]
        assert np.isfinite(a.blur.score)
    assert time.perf_counter() - t < 2.0
    assert peak_rss_mb() - base < MAX_CALL_MB


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.*")), ids=lambda p: p.name)
def test_inputs_that_once_failed(path: Path, classifier):
    """Files that once broke the property (the reliability issue's bombs, and any the fuzzer keeps)."""
    from fashion_desktop.core.analysis import analyze

    base = reset_peak_rss()
    t = time.perf_counter()
    try:
        analyze(path.read_bytes(), classifier)
    except ImageError as exc:
        assert str(exc)
    assert time.perf_counter() - t < 2.0
    assert peak_rss_mb() - base < MAX_CALL_MB
