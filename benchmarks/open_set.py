"""Open-set decisions at a simulated door: the default policy and the choices behind it.

    .venv/bin/python benchmarks/open_set.py [--embedders fused sface mobilefacenet] [--out DIR]

For each face set (East-Asian first, then LFW's verify_dev) and embedder, every image is analysed
once; then the door simulation of `facegate eval door` runs the engine's own enrolment and
decision code under several policies:
- the default (3 enrolment images, mean template, track-level score, strict);
- the alternatives it was chosen over: each template / per-frame votes / the former yaw gate
  (0.35) / balanced;
- a what-if: the East-Asian tail given LFW's fitted shape, to show what a larger East-Asian
  calibration set could buy if it confirmed that shape (not what the engine runs).
Writes `open_set.json` (a summary row per run), and for the default policy of the default
embedder `door-<set>.json` and `door-<set>.png` (what `facegate eval door` writes). The README's
"Open-set decisions" tables and plots come from this script (about 15 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from facegate.access.calibrations import BUILT_IN
from facegate.access.policy import Calibration, DecisionPolicy
from facegate.config import DEFAULT_EMBEDDER, DecisionConfig, QualityConfig
from facegate.doorsim.calibrate import fit
from facegate.doorsim.data import FaceSet, analyse
from facegate.doorsim.plot import write_plot
from facegate.doorsim.report import DoorEval, simulate
from facegate.models import default_models_dir
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.detect import FaceDetector
from facegate.vision.embed import Embedder, create_embedder
from facegate.vision.quality import QualityLimits

ROOT = Path(__file__).resolve().parents[1]
FACES = ROOT.parent / "shared" / "data" / "faces"
SETS = {
    "east_asian_dev": FACES / "east_asian_dev" / "eastasian_celeb_v1",
    "verify_dev": FACES / "verify_dev",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "each template": {"templates": "each"},
    "per-frame votes": {"aggregate": "vote"},
    "yaw gate 0.35": {"max_yaw": 0.35},
    "balanced": {"strictness": "balanced"},
    "what-if: LFW's tail shape": {"what_if": True},
}


def _what_if(calibration: Calibration) -> Calibration:
    lfw = next(t for t in calibration.tails if t.dataset == "verify_dev")
    tails = tuple(
        replace(
            tail,
            shape=lfw.fitted_shape,
            # The same mean excess over the onset (scale / (1 - shape)) with the lighter shape.
            scale=tail.scale * (1 - lfw.fitted_shape),
        )
        for tail in calibration.tails
    )
    return replace(calibration, tails=tails)


def run(
    faces: FaceSet, dim: int, variant: dict[str, Any], calibration: Calibration
) -> dict[str, Any]:
    if variant.get("what_if"):
        calibration = _what_if(calibration)
    policy = DecisionPolicy(calibration=calibration, strictness=variant.get("strictness", "strict"))
    decision = DecisionConfig(aggregate=variant.get("aggregate", DecisionConfig().aggregate))
    options = DoorEval(template_policy=variant.get("templates", DoorEval().template_policy))
    return simulate(faces, policy=policy, decision=decision, dim=dim, options=options)


def analysed(
    detector: FaceDetector, embedder: Embedder, quality: QualityConfig
) -> dict[str, FaceSet]:
    analyzer = FaceAnalyzer(detector, embedder, QualityLimits(**quality.model_dump()))
    return {name: analyse(path, analyzer) for name, path in SETS.items()}


def summary(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("correct", "wrong_person", "stranger_let_in", "stranger_let_in_upper_95", "trials")
    return {
        "people_enrolled": report["people_enrolled"],
        "probes": report["probes"],
        "threshold": report["policy"]["threshold"],
        "frame": {k: report["frame"][k] for k in keys},
        "attempt": {k: report["attempt"][k] for k in keys},
        "rejected_by": report["frame"]["rejected_by"],
        "enrolment": report["enrolment"],
        "impostors": report["impostors"],
        "by_gallery_size": [
            {"people": r["people"], **r["policy"]} for r in report["by_gallery_size"]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedders", nargs="+", default=[DEFAULT_EMBEDDER])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    models_dir = default_models_dir()
    rows = []
    for embedder_name in args.embedders:
        embedder = create_embedder(embedder_name, models_dir)
        detector = FaceDetector(models_dir, "short")
        face_sets = analysed(detector, embedder, QualityConfig())
        former = QualityConfig(max_yaw=0.35)
        turned = analysed(detector, embedder, former) if embedder_name == DEFAULT_EMBEDDER else {}
        # "each" is judged at its own calibration: its stranger tail differs from the mean's.
        calibrations = {
            "mean": BUILT_IN[embedder_name],
            "each": fit(list(face_sets.values()), dim=embedder.dim, policy="each"),
        }
        for set_name, faces in face_sets.items():
            faces.name = set_name
            variants = VARIANTS if embedder_name == DEFAULT_EMBEDDER else {"default": {}}
            for variant_name, variant in variants.items():
                started = time.perf_counter()
                calibration = calibrations[variant.get("templates", "mean")]
                measured = turned[set_name] if "max_yaw" in variant else faces
                measured.name = set_name
                report = run(measured, embedder.dim, variant, calibration)
                if embedder_name == DEFAULT_EMBEDDER and variant_name == "default":
                    (args.out / f"door-{set_name}.json").write_text(json.dumps(report, indent=2))
                    write_plot(report, args.out / f"door-{set_name}.png")
                row = {
                    "embedder": embedder_name,
                    "dataset": set_name,
                    "variant": variant_name,
                    **summary(report),
                    "ms_per_image": round(faces.ms_per_image, 1),
                    "wall_s": round(time.perf_counter() - started, 1),
                }
                rows.append(row)
                print(
                    json.dumps(
                        {k: row[k] for k in ("embedder", "dataset", "variant", "threshold")}
                        | {"frame": row["frame"], "attempt": row["attempt"]}
                    ),
                    flush=True,
                )
    document = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}",
        "runs": rows,
    }
    (args.out / "open_set.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out / 'open_set.json'}")


if __name__ == "__main__":
    main()
