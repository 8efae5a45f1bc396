"""Command line: ``python -m training [train] ...``, ``python -m training evaluate``, ``... imbalance``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from training.data import DataError
from training.train import DEFAULT_OUT, TrainConfig

SUBCOMMANDS = ("train", "evaluate", "imbalance", "segmenter", "region-prior", "colour", "recalibrate")


def _classes(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def _common(p: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    p.add_argument("--arch", choices=("default", "seed"), default=d.arch)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.learning_rate, dest="learning_rate")
    p.add_argument(
        "--blur-prob",
        type=float,
        default=d.blur_prob,
        help="share of training images blurred (Gaussian, motion or defocus of random strength)",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--val-fraction",
        type=float,
        default=d.val_fraction,
        help="share of Fashion-MNIST's training images held out to pick the best epoch "
        "(0: train on all 60,000 and keep the last epoch)",
    )
    p.add_argument(
        "--data-dir",
        help="folder with the four Fashion-MNIST IDX .gz files "
        "(default: /usr/share/datasets/fashion-mnist, else Keras's loader)",
    )
    p.add_argument("--subset", type=int, help="train on this many images only (quick runs, tests)")
    p.add_argument(
        "--rare-order",
        type=_classes,
        default=d.rare_order,
        help="classes from most to least frequent for --imbalance, e.g. 0,1,2,3,4,5,6,7,8,9",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument(
        "--photos",
        help="folder of real photos in clothing-dataset-small's layout (see README); "
        "trained on together with Fashion-MNIST, part held out for measuring",
    )
    p.add_argument(
        "--extra-photos",
        help="a second photo folder in the same layout (clothing-dataset-extra); its held-out part is scored apart",
    )
    p.add_argument(
        "--ccp",
        help="the CCP folder: worn garments cut by their true masks are trained on (held-out part scored apart)",
    )
    p.add_argument(
        "--init-from",
        help="a model file this training built (e.g. resources/model/model-<sha>.keras): go on training its "
        "network instead of starting from scratch; record its sha256 (model.json does)",
    )
    p.add_argument("--ccp-variants", type=int, default=d.ccp_variants, help="re-takes of each CCP garment")
    p.add_argument(
        "--photo-variants",
        type=int,
        default=d.photo_variants,
        help="re-takes (crop, rotation, exposure) made of each photo before prepare",
    )
    p.add_argument(
        "--photo-like-prob",
        type=float,
        default=d.photo_like_prob,
        help="share of Fashion-MNIST items given a phone-photo look (lighting, crop, mask bites)",
    )
    p.add_argument(
        "--outlier-weight",
        type=float,
        default=d.outlier_weight,
        help="weight of the 'none of the classes' photos (hat, shorts, skirt) in the loss",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m training", description="Rebuild the Fashion Lens model.")
    sub = top.add_subparsers(dest="command")
    t = sub.add_parser("train", help="train a model, evaluate it, install it (weights, model.json, report)")
    _common(t)
    t.add_argument("--imbalance", type=float, metavar="RATIO", help="train on a long-tailed copy (most/least = RATIO)")
    t.add_argument("--balance", choices=("none", "weights", "logit-adjust"), default="none")
    e = sub.add_parser("evaluate", help="score a model on the clean and blurred test sets")
    e.add_argument("--model", type=Path, required=True)
    e.add_argument("--data-dir")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    i = sub.add_parser("imbalance", help="compare --balance none with imbalance-aware methods on long-tailed data")
    _common(i)
    i.set_defaults(arch="seed", epochs=10)
    i.add_argument("--ratio", type=float, default=100.0)
    i.add_argument("--strategies", default="none,logit-adjust,weights")
    from training.segmenter import DEFAULT_OUT as SEGMENTER_OUT
    from training.segmenter import SegmenterConfig

    g = sub.add_parser("segmenter", help="train the garment segmenter on the CCP photos and install it")
    s = SegmenterConfig()
    g.add_argument("--ccp", default=s.ccp, help=f"the CCP folder (default {s.ccp})")
    g.add_argument("--epochs", type=int, default=s.epochs)
    g.add_argument("--variants", type=int, default=s.variants, help="augmented versions of each photo per epoch")
    g.add_argument("--batch-size", type=int, default=s.batch_size)
    g.add_argument("--lr", type=float, default=s.learning_rate, dest="learning_rate")
    g.add_argument("--width", type=int, default=s.width, help="channels of the first block")
    g.add_argument("--bottleneck", type=int, default=s.bottleneck, help="more blocks at the 6 x 6 bottom")
    g.add_argument("--seed", type=int, default=s.seed)
    g.add_argument("--photos", help="flat-lay photos (clothing-dataset-small's layout) to learn 'no person' from")
    g.add_argument("--photos-per-epoch", type=int, default=s.photos_per_epoch)
    g.add_argument("--out", type=Path, default=SEGMENTER_OUT, help=f"output folder (default {SEGMENTER_OUT})")
    r = sub.add_parser(
        "region-prior",
        help="count what class each garment region the segmenter finds on the CCP training photos is; "
        "written into the segmenter's model.json (the segmenter command does this itself)",
    )
    r.add_argument("--segmenter-dir", type=Path, default=SEGMENTER_OUT, help=f"(default {SEGMENTER_OUT})")
    r.add_argument("--ccp", type=Path, default=Path(s.ccp), help=f"the CCP folder (default {s.ccp})")
    r.add_argument("--limit", type=int, help="count on this many training photos only (quick runs, tests)")
    q = sub.add_parser(
        "recalibrate",
        help="set an installed classifier's known threshold again by the current rule, on its held-out photos "
        "(weights unchanged; model.json's threshold and photo figures rewritten)",
    )
    q.add_argument("--model-dir", type=Path, required=True, help="e.g. resources/photo_model")
    from training.colour import DEFAULT_OUT as COLOUR_OUT
    from training.colour import ColourConfig

    c = sub.add_parser("colour", help="train the colour photo model (64 x 64 RGB) on the real photos and install it")
    k = ColourConfig()
    c.add_argument("--photos", default=k.photos, help=f"clothing-dataset-small (default {k.photos})")
    c.add_argument("--extra-photos", default=k.extra_photos, help=f"a second collection (default {k.extra_photos})")
    c.add_argument("--ccp", default=k.ccp, help=f"the CCP folder (default {k.ccp})")
    c.add_argument("--epochs", type=int, default=k.epochs)
    c.add_argument("--batch-size", type=int, default=k.batch_size)
    c.add_argument("--lr", type=float, default=k.learning_rate, dest="learning_rate")
    c.add_argument("--photo-variants", type=int, default=k.photo_variants, help="re-takes of each photo")
    c.add_argument("--ccp-variants", type=int, default=k.ccp_variants, help="re-takes of each CCP garment")
    c.add_argument(
        "--ccp-segmented",
        metavar="SEGMENTER_DIR",
        help="also train on the garments this segmenter finds on the CCP training photos, cut as the app cuts them",
    )
    c.add_argument(
        "--fashion-mnist-per-class",
        type=int,
        default=k.fashion_mnist_per_class,
        help="dataset items per class per epoch",
    )
    c.add_argument("--blur-prob", type=float, default=k.blur_prob)
    c.add_argument(
        "--shoe-turn-prob",
        type=float,
        default=k.shoe_turn_prob,
        help="share of shoe photos turned by a right angle each epoch (shoes from above lie any way up)",
    )
    c.add_argument("--width", type=int, default=k.width, help="channels of the first block")
    c.add_argument("--seed", type=int, default=k.seed)
    c.add_argument("--data-dir", help="Fashion-MNIST's IDX files (default: the Debian package, else Keras's loader)")
    c.add_argument("--subset", type=int, help="train on this many real items only (quick runs, tests)")
    c.add_argument("--out", type=Path, default=COLOUR_OUT, help=f"output folder (default {COLOUR_OUT})")
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS + ("-h", "--help"):
        argv.insert(0, "train")
    args = parser().parse_args(argv)
    command = "python -m training " + shlex.join(argv)
    # The folder the command writes into (evaluate writes none): each command has one of these options.
    out = next((getattr(args, a) for a in ("out", "segmenter_dir", "model_dir") if hasattr(args, a)), None)
    before = _folder_state(out)
    try:
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "segmenter":
            from training.segmenter import SegmenterConfig
            from training.segmenter import run as run_segmenter

            fields = {k: v for k, v in vars(args).items() if k in SegmenterConfig.__dataclass_fields__}
            run_segmenter(SegmenterConfig(**fields), args.out, command)
            return 0
        if args.command == "region-prior":
            from training import region_prior

            field = region_prior.run(args.segmenter_dir, args.ccp, command, args.limit)
            print(json.dumps(field["counts"]))
            return 0
        if args.command == "recalibrate":
            from training import recalibrate

            meta = recalibrate.run(args.model_dir, command)
            rp = meta["metrics"]["real_photos"]
            print(
                f"known threshold {meta['recalibrated']['previous_threshold']:.6f} -> {meta['known_threshold']:.6f}; "
                f"known photos judged unknown {rp['known_judged_unknown']:.4f} "
                f"(cross-fitted {rp['known_judged_unknown_cross_fitted']:.4f}), unknown items caught "
                f"{rp['unknown_detected']:.4f} (cross-fitted {rp['unknown_detected_cross_fitted']:.4f})"
            )
            return 0
        if args.command == "colour":
            from training.colour import ColourConfig
            from training.colour import run as run_colour

            fields = {k: v for k, v in vars(args).items() if k in ColourConfig.__dataclass_fields__}
            run_colour(ColourConfig(**fields), args.out, command)
            return 0
        cfg_fields = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
        cfg = TrainConfig(**cfg_fields)
        if args.command == "imbalance":
            from training.imbalance import study

            study(cfg, args.ratio, args.strategies.split(","), args.out, command)  # folds itself into model.json
            return 0
        from training.train import run

        run(cfg, args.out, command)  # the folder's imbalance study is folded into the new model.json
        return 0
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{_what_changed(out, before)}", file=sys.stderr)
        return 130


def _folder_state(out: Path | None) -> dict:
    """The files of ``out`` an interrupted run may have changed, as bytes (None: absent)."""
    state = {}
    for name in ("model.json", "imbalance.json"):
        try:
            state[name] = (out / name).read_bytes() if out else None
        except OSError:
            state[name] = None
    return state


def _what_changed(out: Path | None, before: dict) -> str:
    """The truth about ``out`` after an interrupt, read from the folder, not guessed from where it came.

    Saving holds Ctrl-C until the folder is whole again, so the interrupt lands before the new model was
    installed or after all of it; model.json tells which.
    """
    now = _folder_state(out)
    if now == before:
        return "interrupted: nothing was written; the model already in place is unchanged."
    from training.install import install_problems, installed_file

    done = []
    if now["imbalance.json"] != before["imbalance.json"]:
        done.append(f"the imbalance study was written to {out / 'imbalance.json'}")
    if now["model.json"] != before["model.json"]:
        if _model_sha256(now["model.json"]) != _model_sha256(before["model.json"]):
            done.append(f"the new model was installed ({out / 'model.json'} names {installed_file(out)})")
        else:
            done.append(f"{out / 'model.json'} was rewritten (the model's weights are unchanged)")
    problems = install_problems(out) if now["model.json"] else []
    return "interrupted after " + " and ".join(done) + (f", but {'; '.join(problems)}." if problems else ".")


def _model_sha256(raw: bytes | None) -> str | None:
    try:
        meta = json.loads(raw) if raw else None
    except ValueError:
        return None
    return meta.get("sha256") if isinstance(meta, dict) else None


def _evaluate(args) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    import fashion_desktop.core.layers  # noqa: F401 - the shipped model's own layers
    from training import data
    from training.evaluate import evaluate
    from training.report import CONDITION_LABELS

    if not args.model.exists():
        print(f"error: {args.model} does not exist", file=sys.stderr)
        return 2
    from fashion_desktop.core.model_config import UnsafeModelError, check_keras_archive

    try:  # the same vetting as the app's: safe_mode alone lets a Lambda(TFSMLayer) load outside code
        check_keras_archive(args.model.read_bytes())
    except UnsafeModelError as exc:
        print(f"error: {args.model}: {exc}", file=sys.stderr)
        return 2
    _, test, _ = data.load_raw(args.data_dir)
    model = keras.saving.load_model(args.model, compile=False, safe_mode=True)
    result = evaluate(model, test.x, test.y)
    if args.json:
        print(json.dumps(result))
    else:
        for key, acc in result["accuracy"].items():
            print(f"{CONDITION_LABELS.get(key, key):<20} {100 * acc:6.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
