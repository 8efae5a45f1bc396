"""Per-stage timings of the picture pipeline, model-call latency and folder throughput.

Run: ``.venv/bin/python benchmarks/pipeline.py [--threads 1]``. Last line: key=value figures.
``--threads N`` gives OpenCV and TensorFlow N threads each, and folder runs N worker threads (decode-only
is measured on N threads too, so the ratio compares like with like). End to end is ``analyze`` as the
window's picture and the camera call it, blur and edges on a second thread beside isolation
(``end_to_end_ms``, ``person_end_to_end_ms``), and on one thread as the web server calls it (``*_serial_ms``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for OpenCV and TensorFlow (default 1)")
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    from benchmarks._models import use_threads

    use_threads(args.threads)
    import cv2

    from fashion_desktop.core.analysis import analyze, analyze_files
    from fashion_desktop.core.blur import measure_blur
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.core.edges import detect_edges
    from fashion_desktop.core.images import load_image
    from fashion_desktop.core.prepare import (
        colour_input,
        detail_picture,
        garment_input,
        to_colour_input,
        to_model_input,
        work_picture,
    )

    clf = Classifier.load()
    photos = clf.for_photos()  # the model that judges photos: the colour one when it is bundled
    prepare_photo = to_colour_input if photos.colour else to_model_input
    samples = sorted((REPO / "resources" / "samples").glob("*.jpg"))
    photo = cv2.resize(load_image(samples[0]), (864, 1152), interpolation=cv2.INTER_CUBIC)  # ~1 MP
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        stages = {
            "decode": _median_ms(lambda: load_image(path), args.repeat),
            "blur": _median_ms(lambda: measure_blur(photo), args.repeat),
            "edges": _median_ms(lambda: detect_edges(photo), args.repeat),
            "prepare": _median_ms(lambda: prepare_photo(photo), args.repeat),
        }
        small = work_picture(photo)
        stages["segment"] = _median_ms(lambda: clf.segmenter.regions(small), args.repeat * 3)
        x = to_model_input(photo)[None]
        stages["classify"] = _median_ms(lambda: clf.predict(x), args.repeat * 3)  # the 28 x 28 model
        y = prepare_photo(photo)[None]
        stages["classify_photo"] = _median_ms(lambda: photos.predict(y), args.repeat * 3)  # the photo model
        end_to_end = _median_ms(lambda: analyze(path, clf), args.repeat)
        # The same on one thread: blur and edges before isolation, not beside it (as the web server runs it).
        serial = _median_ms(lambda: analyze(path, clf, overlap=False), args.repeat)
        # A person: the outfit sample at ~1 MP, judged by its main garment and its other items.
        outfit = cv2.resize(load_image(REPO / "resources" / "samples" / "people" / "outfit.jpg"), (816, 1232))
        person_path = Path(tmp) / "outfit.jpg"
        cv2.imwrite(str(person_path), cv2.cvtColor(outfit, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        seg = clf.segmenter.segment(work_picture(outfit))
        assert seg.main is not None, "the outfit sample shows a person"
        worn = clf.for_photos(worn=True)  # the model for garments on people: the colour one when bundled
        if worn.colour:
            cut = lambda: colour_input(detail_picture(outfit), seg.main.mask)  # noqa: E731
        else:
            cut = lambda: garment_input(outfit, seg.main.mask)  # noqa: E731
        stages["cut_garment"] = _median_ms(cut, args.repeat)
        z = cut()[None]
        stages["classify_worn"] = _median_ms(lambda: worn.predict(z), args.repeat * 3)
        person_end_to_end = _median_ms(lambda: analyze(person_path, clf), args.repeat)
        person_serial = _median_ms(lambda: analyze(person_path, clf, overlap=False), args.repeat)
        for name, ms in stages.items():
            print(f"{name:<12} {ms:7.2f} ms")
        print(f"{'total':<12} {end_to_end:7.2f} ms  (analyze(path) end to end, 1 MP JPEG of a flat-lay)")
        print(f"{'person':<12} {person_end_to_end:7.2f} ms  (the same for a 1 MP photo of a person and its items)")
        print(f"{'serial':<12} {serial:7.2f} / {person_serial:.2f} ms  (both with blur and edges on the same thread)")

        folder = []
        for i in range(64):
            p = Path(tmp) / f"{i}.jpg"
            img = cv2.resize(load_image(samples[i % len(samples)]), (600, 800))
            cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            folder.append(p)
        # Folder runs as fashion-classify and the window's batches do them: analyze_files, --threads workers.
        with ThreadPoolExecutor(args.threads) as pool:
            t = time.perf_counter()
            list(pool.map(load_image, folder))
            decode_rate = len(folder) / (time.perf_counter() - t)
        t = time.perf_counter()
        results = list(analyze_files(folder, clf, workers=args.threads))
        pipeline_rate = len(folder) / (time.perf_counter() - t)
        assert not any(isinstance(r, Exception) for _, r in results)
        print(
            f"folder ({args.threads} thread(s)): decode only {decode_rate:.1f} img/s, full pipeline "
            f"{pipeline_rate:.1f} img/s ({100 * pipeline_rate / decode_rate:.0f}% of decode-only)"
        )
    figures = {f"{k}_ms": round(v, 2) for k, v in stages.items()}
    figures.update(
        end_to_end_ms=round(end_to_end, 2),
        person_end_to_end_ms=round(person_end_to_end, 2),
        end_to_end_serial_ms=round(serial, 2),
        person_end_to_end_serial_ms=round(person_serial, 2),
        model_call_ms=round(stages["classify"], 2),
        photo_model_call_ms=round(stages["classify_photo"], 2),
        photo_model_colour=int(photos.colour),
        worn_model_call_ms=round(stages["classify_worn"], 2),
        worn_model_colour=int(worn.colour),
        decode_only_img_s=round(decode_rate, 1),
        pipeline_img_s=round(pipeline_rate, 1),
        throughput_ratio=round(pipeline_rate / decode_rate, 3),
        threads=args.threads,
    )
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
