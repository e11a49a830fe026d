"""Per-door galleries against one gallery for all, on both face sets (`facegate eval door`'s
`by_groups`): the same people and probe frames split into 1, 2, 4, ... access groups of one
door each, under the default policy and embedder.

    .venv/bin/python benchmarks/access_groups.py [--out DIR]

Writes `access_groups.json` (the rows per set) and `access_groups.png`: residents let in at
the policy's threshold, and strangers let in at a one-person door's fixed threshold, against
the number of people each door compares a face with. The README's "Access groups" figures come
from this script (about 4 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

from facegate.access.calibrations import BUILT_IN
from facegate.config import DEFAULT_EMBEDDER, QualityConfig
from facegate.models import default_models_dir
from facegate.vision.detect import FaceDetector
from facegate.vision.embed import create_embedder
from open_set import ROOT, analysed, run


def plot(document: dict[str, Any], out: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, rows in document["sets"].items():
        sizes = [r["people_per_door"] for r in rows]
        residents = [100 * r["residents_let_in_checked"]["rate"] for r in rows]
        strangers = [100 * r["strangers_let_in_at_fixed_threshold"]["rate"] for r in rows]
        left.plot(sizes, residents, marker="o", label=name)
        right.plot(sizes, strangers, marker="o", label=name)
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xlabel("people each door compares a face with (log)")
        axis.invert_xaxis()
        axis.grid(alpha=0.3)
        axis.legend()
    left.set_title("residents let in (frames), policy threshold per door")
    left.set_ylabel("%")
    fixed = next(iter(document["sets"].values()))[0]["fixed_threshold"]
    right.set_title(f"strangers let in (frames) at a fixed {fixed:.3f}")
    right.set_ylabel("%")
    fig.suptitle(
        f"Access groups: a gallery per door vs one for all ({document['embedder']}, "
        f"{document['date']})"
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    models_dir = default_models_dir()
    embedder = create_embedder(DEFAULT_EMBEDDER, models_dir)
    face_sets = analysed(FaceDetector(models_dir, "short"), embedder, QualityConfig())
    sets = {}
    for name, faces in face_sets.items():
        faces.name = name
        report = run(faces, embedder.dim, {}, BUILT_IN[DEFAULT_EMBEDDER])
        sets[name] = report["by_groups"]
        for row in report["by_groups"]:
            print(json.dumps({"set": name, **row}), flush=True)
    document = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "embedder": DEFAULT_EMBEDDER,
        "sets": sets,
    }
    (args.out / "access_groups.json").write_text(json.dumps(document, indent=2) + "\n")
    plot(document, args.out / "access_groups.png")
    print(f"wrote {args.out / 'access_groups.json'} and access_groups.png")


if __name__ == "__main__":
    main()
