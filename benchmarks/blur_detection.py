"""How well the blur verdict tells sharp pictures from blurred ones, against the variance-of-Laplacian.

Labelled set:
- sharp: 300 phone photos of clothes (a fixed-seed sample of ../shared/photos/clothing-dataset-small,
  train and validation splits; many on plain backgrounds), as they are. None is excluded: the softest
  ones, looked at by eye, are plain garments a little soft at 100% but not blurry to a viewer;
- blurred: each of them blurred with ``core/degrade.py`` (the code that also augments training):
  Gaussian sigma 0.5% / 1% / 2% of the long side, motion 1.5% / 3% / 5% (random direction) and
  defocus radius 1% / 2% / 3% (a disc of radius r is about as soft as a Gaussian of sigma r/2). Like
  a phone, each blurred copy gets a little sensor noise (sigma 1.5 gray levels) and is saved as JPEG
  (quality 90), so the blur does not leave an unnaturally clean picture;
- Fashion-MNIST: 200 test items turned dark-on-white, at their own 28x28 size, sharp and blurred. A
  28x28 picture is measured on its own pixels (it is below the working size), so it is blurred by the
  same number of *working* pixels as the mild photo blurs: Gaussian sigma 1.92 px, motion 5.76 px,
  defocus radius 3.84 px (0.5% / 1.5% / 1% of 384). Fractions of 28 px (0.14 px) would be invisible.
  A finer tier (sigma 1, motion 3, radius 1.5 px) is shown too but kept out of the labelled figures
  (``fmnist_fine_caught`` in the last line): at that size it is partly below what edges 1-2 px wide
  can show, and motion along an item's main edges barely changes them.

Threshold: the photos are split in two halves by photo (a photo's blurred copies stay in its half).
On the calibration half the threshold is put halfway between the 1st percentile of the sharp photos'
scores and the 99th percentile of the blurred copies' scores; every figure reported is on the other
half and on Fashion-MNIST, never used for fitting. The module's ``BLUR_THRESHOLD`` is that value,
rounded to 0.5; the script says if the two drift apart. The method's own settings (working size,
window, percentile, orientations) were chosen during development on a different random sample of
these photos (seed 2024, which overlaps this one by chance, ~9%) and other Fashion-MNIST items.

Also shown, not in the labelled figures: Fashion-MNIST items enlarged 10x to 280 px. A 10x enlargement
is, for its size, as soft as a Gaussian blur of about 1.5% of the long side, so it scores as blurry;
a picture's content cannot tell an enlarged thumbnail from a blurred photo (both lack fine detail).

Run from the repository root: ``.venv/bin/python benchmarks/blur_detection.py`` (about a minute).
The last line holds the key figures as key=value pairs.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from fashion_desktop.core import blur  # noqa: E402
from fashion_desktop.core.degrade import defocus_blur, gaussian_blur, motion_blur  # noqa: E402

PHOTO_ROOT = REPO.parent / "shared" / "photos" / "clothing-dataset-small"
SEED = 0
N_PHOTOS = 300
N_FMNIST = 200
LAPLACIAN_THRESHOLD = 100.0  # the usual value for the classic variance-of-Laplacian test
NOISE_SIGMA = 1.5
JPEG_QUALITY = 90

# (kind, strength): strength is a fraction of the long side for photos, pixels for 28x28 items.
PHOTO_BLURS = [
    ("gaussian", 0.005),
    ("gaussian", 0.01),
    ("gaussian", 0.02),
    ("motion", 0.015),
    ("motion", 0.03),
    ("motion", 0.05),
    ("defocus", 0.01),
    ("defocus", 0.02),
    ("defocus", 0.03),
]
FMNIST_BLURS = [("gaussian", 1.92), ("motion", 5.76), ("defocus", 3.84)]  # = photo mild levels at 384 px
FMNIST_FINE_BLURS = [("gaussian", 1.0), ("motion", 3.0), ("defocus", 1.5)]


@dataclass(frozen=True)
class Sample:
    group: str  # "photo", "fmnist", "fmnist_fine" (finer blurs, not labelled) or "fmnist_x10" (enlarged)
    kind: str  # "sharp", "gaussian", "motion" or "defocus"
    strength: float
    calibration: bool
    score: float
    laplacian: float

    @property
    def blurred(self) -> bool:
        return self.kind != "sharp"

    @property
    def condition(self) -> str:
        if self.kind == "sharp":
            return "sharp"
        unit = "px" if self.group != "photo" else "%"
        value = self.strength * 100 if self.group == "photo" else self.strength
        return f"{self.kind} {value:g}{unit}"


# --- data -----------------------------------------------------------------------------------------


def apply_blur(image: np.ndarray, kind: str, pixels: float, rng: np.random.Generator) -> np.ndarray:
    if kind == "gaussian":
        return gaussian_blur(image, pixels)
    if kind == "motion":
        return motion_blur(image, pixels, rng.uniform(0, 180))
    if kind == "defocus":
        return defocus_blur(image, pixels)
    raise ValueError(kind)


def like_a_phone(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = np.clip(image.astype(np.float32) + rng.normal(0, NOISE_SIGMA, image.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def laplacian_variance(image: np.ndarray) -> float:
    """The classic test, on the picture as given: variance of the Laplacian of the gray image."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def measure(group: str, kind: str, strength: float, calibration: bool, image: np.ndarray) -> Sample:
    return Sample(group, kind, strength, calibration, blur.sharpness_score(image), laplacian_variance(image))


def photo_samples() -> list[Sample]:
    paths = sorted(PHOTO_ROOT.glob("train/*/*.jpg")) + sorted(PHOTO_ROOT.glob("validation/*/*.jpg"))
    if not paths:
        sys.exit(f"no photos under {PHOTO_ROOT}")
    rng = np.random.default_rng(SEED)
    chosen = rng.choice(len(paths), min(N_PHOTOS, len(paths)), replace=False)
    samples = []
    for n, i in enumerate(chosen):
        rgb = cv2.cvtColor(cv2.imread(str(paths[i])), cv2.COLOR_BGR2RGB)
        calibration = n % 2 == 0
        long_side = max(rgb.shape[:2])
        samples.append(measure("photo", "sharp", 0.0, calibration, rgb))
        for kind, fraction in PHOTO_BLURS:
            blurred = like_a_phone(apply_blur(rgb, kind, fraction * long_side, rng), rng)
            samples.append(measure("photo", kind, fraction, calibration, blurred))
    return samples


def fmnist_samples() -> list[Sample]:
    from training.data import load_raw

    _, test, _ = load_raw()
    rng = np.random.default_rng(SEED + 200)  # other items than the ones looked at during development
    items = 255 - test.x[rng.choice(len(test.x), N_FMNIST, replace=False)]  # dark item on white
    samples = []
    for item in items:
        samples.append(measure("fmnist", "sharp", 0.0, False, item))
        for kind, pixels in FMNIST_BLURS:
            samples.append(measure("fmnist", kind, pixels, False, apply_blur(item, kind, pixels, rng)))
        for kind, pixels in FMNIST_FINE_BLURS:
            samples.append(measure("fmnist_fine", kind, pixels, False, apply_blur(item, kind, pixels, rng)))
        big = cv2.resize(item, (280, 280), interpolation=cv2.INTER_CUBIC)
        samples.append(measure("fmnist_x10", "sharp", 0.0, False, big))
    return samples


# --- threshold ------------------------------------------------------------------------------------


def calibrate(scores: np.ndarray, blurred: np.ndarray) -> float:
    """Halfway between the 1st percentile of sharp scores and the 99th percentile of blurred ones.

    That leaves equal room on both sides for pictures unlike the calibration ones, and one odd
    picture on either side cannot drag it. Should the two overlap, this is still a fair middle.
    """
    return float((np.percentile(scores[~blurred], 1) + np.percentile(scores[blurred], 99)) / 2)


# --- report ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    n: int
    accuracy: float
    false_blurry: float  # share of sharp pictures called blurry
    false_sharp: float  # share of blurred pictures called sharp


def rates(samples: list[Sample], called_blurry) -> Rates:
    truth = np.array([s.blurred for s in samples])
    called = np.array([called_blurry(s) for s in samples])
    sharp, blurred = ~truth, truth
    return Rates(
        len(samples),
        float((called == truth).mean()) if len(samples) else float("nan"),
        float(called[sharp].mean()) if sharp.any() else float("nan"),
        float((~called[blurred]).mean()) if blurred.any() else float("nan"),
    )


def print_table(title: str, samples: list[Sample], threshold: float) -> None:

    def ours(s: Sample) -> bool:
        return s.score < threshold

    def lap(s: Sample) -> bool:
        return s.laplacian < LAPLACIAN_THRESHOLD

    print(f"\n{title}")
    print(f"  {'condition':<16}{'n':>5}   {'called blurry: ours':>20}  {'laplacian':>9}   {'score p5/p50/p95':>18}")
    by_condition: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_condition[s.condition].append(s)
    for condition, group in by_condition.items():
        called = np.mean([ours(s) for s in group])
        called_lap = np.mean([lap(s) for s in group])
        p5, p50, p95 = np.percentile([s.score for s in group], [5, 50, 95])
        print(
            f"  {condition:<16}{len(group):>5}   {called:>20.3f}  {called_lap:>9.3f}   {p5:>6.1f}/{p50:.1f}/{p95:.1f}"
        )
    for name, rule in (("ours", ours), ("laplacian", lap)):
        r = rates(samples, rule)
        print(
            f"  {name:<10} accuracy {r.accuracy:.3f}  false-blurry {r.false_blurry:.3f}  "
            f"false-sharp {r.false_sharp:.3f}"
        )


def time_per_megapixel() -> tuple[float, float]:
    """Median wall and CPU milliseconds of measure_blur on a 1 MP photo, OpenCV on one thread."""
    photo = sorted(PHOTO_ROOT.glob("validation/*/*.jpg"))[0]
    rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    rgb = cv2.resize(rgb, (866, 1155), interpolation=cv2.INTER_CUBIC)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        blur.measure_blur(rgb)
        wall, cpu = [], []
        for _ in range(60):
            w0, c0 = time.perf_counter(), time.thread_time()
            blur.measure_blur(rgb)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.thread_time() - c0)
    finally:
        cv2.setNumThreads(threads)
    return float(np.median(wall) * 1e3), float(np.median(cpu) * 1e3)


def main() -> None:
    started = time.perf_counter()
    photos = photo_samples()
    fmnist = fmnist_samples()
    cal = [s for s in photos if s.calibration]
    held_out = [s for s in photos if not s.calibration]
    labelled = held_out + [s for s in fmnist if s.group == "fmnist"]
    enlarged = [s for s in fmnist if s.group == "fmnist_x10"]

    fitted = calibrate(np.array([s.score for s in cal]), np.array([s.blurred for s in cal]))
    threshold = blur.BLUR_THRESHOLD
    n_sharp = sum(not s.blurred for s in cal)
    print(f"Calibration half: {n_sharp} sharp photos and {len(cal) - n_sharp} blurred copies.")
    print(
        f"Threshold halfway between their 1st / 99th percentiles: {fitted:.2f} "
        f"(core/blur.py ships BLUR_THRESHOLD = {threshold:g})."
    )
    if abs(fitted - threshold) > 0.1 * threshold:
        print("  NOTE: the shipped threshold is more than 10% away from the calibrated one.")
    cal_sharp = [s.score for s in cal if not s.blurred]
    cal_blurred = [s.score for s in cal if s.blurred]
    print(
        f"  calibration scores: sharp min {min(cal_sharp):.1f}, 1st pct {np.percentile(cal_sharp, 1):.1f}; "
        f"blurred 99th pct {np.percentile(cal_blurred, 99):.1f}, max {max(cal_blurred):.1f}"
    )

    softest = min(s.score for s in photos if not s.blurred)
    print(
        f"Source photos excluded as already soft: none. The softest (plain garments, a little soft at "
        f"100%) score from {softest:.1f} up and stay labelled sharp."
    )

    print_table("Held-out photos (not used for the threshold)", held_out, threshold)
    print_table(
        "Fashion-MNIST items at 28x28 (not used for the threshold)",
        [s for s in fmnist if s.group == "fmnist"],
        threshold,
    )
    fine = [s for s in fmnist if s.group == "fmnist_fine"]
    print_table("Not labelled: Fashion-MNIST 28x28 with finer blur than the photo levels", fine, threshold)
    print_table("Not labelled: Fashion-MNIST items enlarged 10x to 280 px (cubic)", enlarged, threshold)

    ours = rates(labelled, lambda s: s.score < threshold)
    lap = rates(labelled, lambda s: s.laplacian < LAPLACIAN_THRESHOLD)
    photo_r = rates(held_out, lambda s: s.score < threshold)
    photo_lap = rates(held_out, lambda s: s.laplacian < LAPLACIAN_THRESHOLD)
    fm_r = rates([s for s in fmnist if s.group == "fmnist"], lambda s: s.score < threshold)
    mild = [
        s
        for s in held_out
        if not s.blurred or (s.kind, s.strength) in {("gaussian", 0.005), ("motion", 0.015), ("defocus", 0.01)}
    ]
    mild_r = rates(mild, lambda s: s.score < threshold)
    wall_ms, cpu_ms = time_per_megapixel()
    print(f"\nAll labelled pictures reported ({ours.n}: held-out photos and 28x28 Fashion-MNIST):")
    print(
        f"  ours      accuracy {ours.accuracy:.3f}  false-blurry {ours.false_blurry:.3f}  "
        f"false-sharp {ours.false_sharp:.3f}"
    )
    print(
        f"  laplacian accuracy {lap.accuracy:.3f}  false-blurry {lap.false_blurry:.3f}  "
        f"false-sharp {lap.false_sharp:.3f}   (variance of Laplacian < {LAPLACIAN_THRESHOLD:g})"
    )
    print(
        f"Speed: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per 1 MP photo, one thread "
        f"(median of 60; wall time includes waiting for a core on a busy machine)."
    )
    print(f"Benchmark ran in {time.perf_counter() - started:.0f} s.")
    figures = {
        "accuracy": ours.accuracy,
        "false_blurry": ours.false_blurry,
        "false_sharp": ours.false_sharp,
        "photo_accuracy": photo_r.accuracy,
        "photo_false_blurry": photo_r.false_blurry,
        "photo_false_sharp": photo_r.false_sharp,
        "photo_mild_accuracy": mild_r.accuracy,
        "fmnist_accuracy": fm_r.accuracy,
        "fmnist_false_blurry": fm_r.false_blurry,
        "fmnist_false_sharp": fm_r.false_sharp,
        "laplacian_accuracy": lap.accuracy,
        "laplacian_false_blurry": lap.false_blurry,
        "laplacian_false_sharp": lap.false_sharp,
        "laplacian_photo_accuracy": photo_lap.accuracy,
        "laplacian_photo_false_blurry": photo_lap.false_blurry,
        "fmnist_fine_caught": float(np.mean([s.score < threshold for s in fine])),
        "fmnist_x10_called_blurry": float(np.mean([s.score < threshold for s in enlarged])),
        "threshold": threshold,
        "calibrated_threshold": fitted,
        "n_labelled": ours.n,
        "ms_per_1mp": wall_ms,
        "cpu_ms_per_1mp": cpu_ms,
    }
    print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
