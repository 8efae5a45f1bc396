"""The whole picture pipeline on real files: decode -> analyze with the real bundled model."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import REPO, SHARED, photo_input_shape

SAMPLES = REPO / "resources" / "samples"


def test_core_imports_without_qt_or_tensorflow():
    code = (
        "import sys\n"
        "import fashion_desktop.core.analysis, fashion_desktop.core.classifier, fashion_desktop.cli\n"
        "bad = [m for m in ('tensorflow', 'keras', 'PySide6') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_test_set_pngs_keep_the_models_accuracy(tmp_path, fashion_mnist, classifier):
    """Fashion-MNIST items written to PNG go through the whole pipeline unchanged."""
    from fashion_desktop.core.analysis import analyze

    _, test = fashion_mnist
    idx = np.random.default_rng(3).permutation(len(test.y))[:400]
    direct = classifier.predict(test.x[idx]).argmax(axis=1)
    via_files = []
    for i in idx:
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), test.x[i])
        result = analyze(path, classifier)
        np.testing.assert_array_equal(result.model_input, test.x[i])
        via_files.append(result.prediction.index)
    assert (np.array(via_files) == direct).all()
    assert (direct == test.y[idx]).mean() > 0.9


def test_analysis_of_a_real_photo_is_complete(classifier):
    from fashion_desktop.core.analysis import analyze

    photo = sorted(SAMPLES.glob("*.jpg"))[0]
    result = analyze(photo, classifier)
    h, w = result.image.shape[:2]
    assert result.image.dtype == np.uint8 and result.image.shape[2] == 3
    assert result.edges.shape == (h, w) and set(np.unique(result.edges)) <= {0, 255}
    assert result.model_input.shape == photo_input_shape(classifier) and result.model_input.dtype == np.uint8
    assert len(result.prediction.probabilities) == 10
    assert sum(result.prediction.probabilities) == pytest.approx(1.0, abs=1e-4)
    assert result.prediction.label == result.prediction.ranked()[0][0]
    assert {"decode", "blur", "edges", "prepare", "classify"} <= set(result.timings_ms)
    assert result.source == str(photo)


def test_analyze_files_keeps_order_and_goes_on_past_a_bad_file(tmp_path, classifier):
    """Folder runs: files decoded on several threads, batched model calls, results in input order."""
    from fashion_desktop.core.analysis import analyze, analyze_files
    from fashion_desktop.core.images import ImageError

    photos = sorted(SAMPLES.glob("*.jpg"))[:5]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(photos[0].read_bytes()[:200])  # a truncated JPEG
    paths = [photos[0], photos[1], broken, *photos[2:]]
    results = list(analyze_files(paths, classifier, batch=2, workers=3))
    assert [p for p, _ in results] == paths
    assert isinstance(results[2][1], ImageError)
    for path, result in results[:2] + results[3:]:
        single = analyze(path, classifier)
        assert result.source == str(path)
        np.testing.assert_array_equal(result.model_input, single.model_input)  # same input in any thread
        np.testing.assert_allclose(result.prediction.probabilities, single.prediction.probabilities, atol=1e-5)


@pytest.mark.skipif(not (SHARED / "realworld").is_dir(), reason="../shared/realworld not present")
def test_realworld_sample_runs_end_to_end(classifier):
    from fashion_desktop.core.analysis import analyze

    photos = sorted((SHARED / "realworld").glob("*.jpg"))
    results = [analyze(p, classifier) for p in photos]
    assert all(r.model_input.max() > 0 for r in results)  # an item was found in every photo


def test_a_flat_lays_grabcut_runs_beside_the_segmenter_and_a_persons_is_stopped(classifier):
    """Beside isolation, the side thread starts GrabCut of the working picture while the segmenter looks
    for a person: a flat-lay's mask is that GrabCut's, exactly as on one thread; when the segmenter finds a
    person, GrabCut is told to stop and the person's garments are judged without it."""
    import threading

    from fashion_desktop.core.analysis import _features, _Judges
    from fashion_desktop.core.images import load_image
    from fashion_desktop.core.prepare import foreground_mask, work_picture

    judges = _Judges.of(classifier)
    flat = load_image(SAMPLES / "tshirt.jpg")
    measures, isolated = _features(flat, {}, judges, overlap=True)
    assert measures.grabcut is not None and measures.grabcut.done()
    assert isolated.region is None
    np.testing.assert_array_equal(isolated.mask, foreground_mask(work_picture(flat)))
    measures.result()

    person = load_image(SAMPLES / "people" / "outfit.jpg")
    measures, isolated = _features(person, {}, judges, overlap=True)
    assert isolated.region is not None and isolated.items
    assert measures.grabcut is None  # dropped: nobody waits for it
    assert isinstance(measures._drop, threading.Event) and measures._drop.is_set()
    measures.result()


def test_a_picture_alone_equals_it_in_a_folder_run(classifier):
    """``analyze`` measures blur and edges on a second thread while it isolates the item; a folder run
    does all of it on one thread per picture. Both give the same blur, edges, items and prediction, and
    the single picture's time is its wall-clock time, not the sum of overlapping stages."""
    import time

    from fashion_desktop.core.analysis import analyze, analyze_files

    paths = [sorted(SAMPLES.glob("*.jpg"))[0], SAMPLES / "people" / "outfit.jpg"]
    in_folder = dict(analyze_files(paths, classifier, workers=1))
    for path in paths:
        t = time.perf_counter()
        alone = analyze(path, classifier)
        elapsed = (time.perf_counter() - t) * 1e3
        batched = in_folder[path]
        assert alone.blur == batched.blur
        np.testing.assert_array_equal(alone.edges, batched.edges)
        np.testing.assert_array_equal(alone.model_input, batched.model_input)
        assert [(i.region, i.box) for i in alone.items] == [(i.region, i.box) for i in batched.items]
        assert alone.prediction.label == batched.prediction.label
        assert {"blur", "edges", "prepare", "classify"} <= set(alone.timings_ms)
        assert 0 < alone.total_ms <= elapsed  # the call's own clock, from decode to the last model call
        assert batched.wall_ms is None and batched.total_ms == pytest.approx(sum(batched.timings_ms.values()))
