"""Verification accuracy and embedding speed of every embedder on the same data, in one run.

    .venv/bin/python benchmarks/accuracy.py [--dataset DIR --pairs CSV] [--out DIR]

Writes `accuracy.json` (one `facegate eval` record per embedder) and `accuracy.png` (their
ROC and DET curves together). Defaults to `../shared/data/faces/verify_dev` with the balanced
pair list. The figures in README.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from facegate.evaluate import evaluate, read_pairs, write_plot
from facegate.models import default_models_dir
from facegate.vision.detect import FaceDetector
from facegate.vision.embed import create_embedder
from facegate.vocabulary import EMBEDDER_NAMES

ROOT = Path(__file__).resolve().parents[1]
FACES = ROOT.parent / "shared" / "data" / "faces"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=FACES / "verify_dev")
    parser.add_argument(
        "--pairs", type=Path, default=FACES / "pairs" / "verify_dev_generated_balanced.csv"
    )
    parser.add_argument("--embedders", nargs="+", default=list(EMBEDDER_NAMES))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()

    models_dir = default_models_dir()
    pairs = read_pairs(args.pairs)
    detector = FaceDetector(models_dir, "short")
    records, curves = [], []
    for name in args.embedders:
        started = time.perf_counter()
        result, genuine, impostor = evaluate(
            dataset=args.dataset,
            pairs=pairs,
            embedder=create_embedder(name, models_dir),
            detector=detector,
        )
        record = result.to_json()
        record["wall_s"] = round(time.perf_counter() - started, 1)
        records.append(record)
        curves.append((name, genuine, impostor))
        print(json.dumps(record), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "dataset": str(args.dataset),
        "pairs": str(args.pairs),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "results": records,
    }
    (args.out / "accuracy.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_plot(args.out / "accuracy.png", curves)
    print(f"wrote {args.out / 'accuracy.json'} and {args.out / 'accuracy.png'}")


if __name__ == "__main__":
    main()
