"""`facegate eval pairs|door` and `facegate calibrate`: measuring and calibrating the face
decision on labelled photos (`<person>/<image>` folders)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from facegate.access.gallery import TEMPLATE_POLICIES, TEMPLATE_POLICY
from facegate.access.policy import DEFAULT_STRICTNESS, STRICTNESS, DecisionPolicy
from facegate.access.vote import AGGREGATES
from facegate.config import (
    DEFAULT_AGGREGATE,
    DEFAULT_EMBEDDER,
    Config,
    DecisionConfig,
    QualityConfig,
)
from facegate.models import default_models_dir
from facegate.vision.embed import Embedder
from facegate.vocabulary import EMBEDDER_NAMES

BUILT_IN_EMBEDDERS = [name for name in EMBEDDER_NAMES if name != "custom"]


def _models_dir(args: argparse.Namespace, config: Config | None) -> Path:
    if config is not None:
        return config.models_dir
    return Path(args.models_dir) if args.models_dir else default_models_dir()


def _setup(args: argparse.Namespace) -> tuple[Config | None, Embedder, Any]:
    """The configuration (when given), the embedder, and an analyzer for data-set photos."""
    from facegate.config import load
    from facegate.vision.analyzer import FaceAnalyzer
    from facegate.vision.detect import FaceDetector
    from facegate.vision.embed import create_embedder
    from facegate.vision.quality import QualityLimits

    config = load(Path(args.config)) if args.config else None
    models_dir = _models_dir(args, config)
    embedder = create_embedder(
        config.embedder if config else args.embedder,
        models_dir,
        config.custom_embedder if config else None,
    )
    quality = config.quality if config else QualityConfig()
    analyzer = FaceAnalyzer(
        FaceDetector(models_dir, args.detector), embedder, QualityLimits(**quality.model_dump())
    )
    return config, embedder, analyzer


def _pairs(args: argparse.Namespace) -> int:
    from facegate.evaluate import run_eval
    from facegate.vision.embed import create_embedder

    models_dir = _models_dir(args, None)
    result = run_eval(
        dataset=Path(args.dataset),
        pairs_csv=Path(args.pairs),
        embedder=create_embedder(args.embedder, models_dir),
        models_dir=models_dir,
        detector_range=args.detector,
        json_out=Path(args.json),
    )
    for key, value in result.to_json().items():
        print(f"{key:>22}: {value}")
    print(f"plot: {Path(args.json).with_suffix('.png')}")
    return 0


def _door(args: argparse.Namespace) -> int:
    from facegate.access.calibrations import BUILT_IN, configured
    from facegate.doorsim.data import analyse
    from facegate.doorsim.plot import write_plot
    from facegate.doorsim.report import DoorEval, simulate

    config, embedder, analyzer = _setup(args)
    calibration = configured(config, args.config) if config else BUILT_IN[args.embedder]
    aggregate = args.aggregate or (config.decision.aggregate if config else DEFAULT_AGGREGATE)
    decision = (config.decision if config else DecisionConfig()).model_copy(
        update={"aggregate": aggregate}
    )
    policy = DecisionPolicy(
        calibration=calibration, strictness=args.strictness, fixed_threshold=decision.threshold
    )
    faces = analyse(Path(args.dataset), analyzer)
    report = simulate(
        faces,
        policy=policy,
        decision=decision,
        dim=embedder.dim,
        options=DoorEval(
            enrol=args.enrol,
            gallery=args.gallery,
            template_policy=args.templates,
            attempts_per_person=args.attempts_per_person,
        ),
    )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_plot(report, out.with_suffix(".png"))
    for kind in ("frame", "attempt"):
        rates = report[kind]
        print(
            f"{kind:>7}s: correct {rates['correct']:.2%}, "
            f"wrong person {rates['wrong_person']:.2%}, "
            f"rejected {rates['rejected']:.2%} of {rates['trials']}; "
            f"strangers let in {rates['stranger_let_in']:.2%} of {rates['stranger_trials']} "
            f"(at most {rates['stranger_let_in_upper_95']:.2%} at 95 % confidence)"
        )
    print(
        f" policy: {json.dumps({k: v for k, v in report['policy'].items() if k != 'calibration'})}"
    )
    _print_groups(report["by_groups"])
    print(f"report: {out}  plot: {out.with_suffix('.png')}")
    return 0


def _print_groups(rows: list[dict[str, Any]]) -> None:
    """Per-door galleries (one per access group) against one gallery for all (groups = 1)."""
    if not rows:
        return
    fixed = rows[0]["fixed_threshold"]
    print(
        "per-door galleries (frames; a group per door, 1 = one gallery for all):\n"
        f" groups  people/door  threshold  residents in  strangers in  at {fixed:.3f}  "
        "other group in: door alone / with the check"
    )
    for row in rows:
        other = (
            f"{row['other_group_let_in']['rate']:.2%} / "
            f"{row['other_group_let_in_checked']['rate']:.2%}"
            if row["groups"] > 1
            else "-"
        )
        print(
            f" {row['groups']:>6}  {row['people_per_door']:>11}  {row['threshold']:>9.3f}  "
            f"{row['residents_let_in_checked']['rate']:>12.2%}  "
            f"{row['strangers_let_in_checked']['rate']:>12.2%}  "
            f"{row['strangers_let_in_at_fixed_threshold']['rate']:>8.2%}  {other}"
        )


def _liveness(args: argparse.Namespace) -> int:
    from facegate.doorsim.liveness import evaluate, read_items
    from facegate.doorsim.liveness_plot import write_plot
    from facegate.vision.analyzer import FaceAnalyzer
    from facegate.vision.detect import FaceDetector
    from facegate.vision.embed import create_embedder
    from facegate.vision.liveness import MiniFASNet
    from facegate.vision.quality import QualityLimits

    models_dir = _models_dir(args, None)
    embedder = create_embedder("mobilefacenet", models_dir)  # never run: no vector is needed
    liveness = MiniFASNet(models_dir)

    def analyzer(detector_range: str) -> FaceAnalyzer:
        detector = FaceDetector(models_dir, "full" if detector_range == "full" else "short")
        limits = QualityLimits(**QualityConfig().model_dump())
        return FaceAnalyzer(detector, embedder, limits, liveness=liveness)

    # Photos are close-ups (the short-range detector, as for enrolment); clips are door
    # cameras (the full-range one, a camera's default), unless --detector says otherwise.
    analyzers = {
        "still": analyzer(args.detector or "short"),
        "clip": analyzer(args.detector or "full"),
    }
    report = evaluate(read_items(Path(args.labels)), Path(args.root), analyzers, DecisionConfig())
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_plot(report, out.with_suffix(".png"), Path(args.labels).stem)
    bpcer = report["bpcer"]
    if bpcer["items"]:
        print(
            f"live refused (BPCER): {bpcer['refused']} of {bpcer['items']} "
            f"(at most {bpcer['upper_95']:.1%} at 95 % confidence)"
        )
        judged = report["bpcer_judged"]
        print(
            f"  of those the door could judge: {judged['refused']} of {judged['items']} "
            f"({report['not_judged']['live']} live items without a face it could use)"
        )
    for label, rates in {**report["apcer"], **report["apcer_by_kind"]}.items():
        print(
            f"{label:>10} passed as live (APCER): {rates['passed_as_live']} of {rates['items']} "
            f"(at most {rates['upper_95']:.1%} at 95 % confidence)"
        )
    print(f"report: {out}  plot: {out.with_suffix('.png')}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from facegate.access.calibrations import save
    from facegate.doorsim.calibrate import fit
    from facegate.doorsim.data import analyse

    config, embedder, analyzer = _setup(args)
    model_sha256 = config.custom_model.sha256 if config and config.custom_model else None
    target = Path(args.json) if args.json else (config.calibration_file if config else None)
    if target is None:
        raise SystemExit("facegate calibrate: give --json FILE (where to write the calibration)")
    face_sets = [analyse(Path(dataset), analyzer) for dataset in args.dataset]
    calibration = fit(face_sets, dim=embedder.dim, enrol=args.enrol, model_sha256=model_sha256)
    save(calibration, target)
    for tail in calibration.tails:
        print(
            f"{tail.dataset}: {tail.comparisons} stranger comparisons, highest {tail.highest:.3f}; "
            f"tail from {tail.onset:.3f} (scale {tail.scale:.4f}, shape {tail.shape:+.3f})"
        )
    policy = DecisionPolicy(calibration=calibration)
    for people in (10, 100, 1000):
        print(f"strict door with {people:>4} people: threshold {policy.threshold(people):.3f}")
    print(f"calibration written to {target}")
    return 0


def add_commands(commands: Any) -> None:
    evaluate = commands.add_parser("eval", help="measure face decisions on labelled photos")
    kinds = evaluate.add_subparsers(dest="kind", required=True)

    pairs = kinds.add_parser("pairs", help="verification accuracy on a pair list (ROC, DET)")
    pairs.add_argument("--dataset", required=True)
    pairs.add_argument("--pairs", required=True, help="CSV with columns img1,img2,same")
    pairs.add_argument("--embedder", default=DEFAULT_EMBEDDER, choices=BUILT_IN_EMBEDDERS)
    pairs.add_argument("--detector", default="short", choices=["short", "full"])
    pairs.add_argument("--json", required=True)
    pairs.add_argument("--models-dir")
    pairs.set_defaults(handler=_pairs)

    door = kinds.add_parser("door", help="a door simulated with the engine's own decision code")
    _source(door)
    door.add_argument("--gallery", type=int, help="enrol a random subset of this many people")
    door.add_argument("--strictness", default=DEFAULT_STRICTNESS, choices=list(STRICTNESS))
    door.add_argument("--aggregate", choices=list(AGGREGATES), help=f"default: {DEFAULT_AGGREGATE}")
    door.add_argument("--templates", default=TEMPLATE_POLICY, choices=list(TEMPLATE_POLICIES))
    door.add_argument("--attempts-per-person", type=int, default=10)
    door.add_argument("--json", required=True, help="the report; the plot goes beside it (.png)")
    door.set_defaults(handler=_door)

    liveness = kinds.add_parser(
        "liveness", help="presentation attacks against the door's liveness decision"
    )
    liveness.add_argument("--labels", required=True, help="CSV: file,label[,kind,group]")
    liveness.add_argument("--root", required=True, help="the folder the CSV's files are in")
    liveness.add_argument(
        "--detector", choices=["short", "full"], help="default: short for photos, full for clips"
    )
    liveness.add_argument("--json", required=True, help="the report; the plot goes beside it")
    liveness.add_argument("--models-dir")
    liveness.set_defaults(handler=_liveness)

    calibrate = commands.add_parser(
        "calibrate", help="fit an embedder's open-set policy on labelled photos"
    )
    _source(calibrate, several=True)
    calibrate.add_argument("--json", help="where to write it (default: the configured file)")
    calibrate.set_defaults(handler=_calibrate)


def _source(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    parser.add_argument(
        "--dataset",
        required=True,
        action="append" if several else "store",
        help="a folder per person holding their photos" + ("; repeatable" if several else ""),
    )
    parser.add_argument("--enrol", type=int, default=3, help="enrolment images per person")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--embedder", default=DEFAULT_EMBEDDER, choices=BUILT_IN_EMBEDDERS)
    which.add_argument("--config", help="use this configuration's embedder (a custom model)")
    parser.add_argument("--detector", default="short", choices=["short", "full"])
    parser.add_argument("--models-dir")
