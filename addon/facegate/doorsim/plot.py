"""The door simulation's picture: rates against the threshold and against the number of people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _floor(values: Sequence[float], trials: int) -> list[float]:
    # A rate of zero cannot sit on a log axis: it is drawn at half of one trial, below the
    # dashed "one trial" line.
    return [max(v, 0.5 / max(trials, 1)) for v in values]


def write_plot(report: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_threshold, by_size, accepted) = plt.subplots(1, 3, figsize=(16, 4.8))
    frames = int(report["frame"]["trials"])
    strangers = int(report["frame"]["stranger_trials"])
    sweep = report["by_threshold"]
    thresholds = [row["threshold"] for row in sweep]
    by_threshold.plot(
        thresholds,
        _floor([1 - row["correct"] for row in sweep], frames),
        label="residents not let in",
    )
    by_threshold.plot(
        thresholds,
        _floor([row["stranger_let_in"] for row in sweep], strangers),
        label="strangers let in",
    )
    by_threshold.plot(
        thresholds,
        _floor([row["wrong_person"] for row in sweep], frames),
        label="taken for another resident",
    )
    chosen = report["policy"]["threshold"]
    by_threshold.axvline(chosen, color="grey", linestyle=":", label=f"policy: {chosen:.3f}")
    by_threshold.axhline(
        1 / max(frames, 1),
        color="black",
        linestyle="--",
        linewidth=0.6,
        label="one frame (below: none)",
    )
    by_threshold.set(
        yscale="log",
        xlabel="threshold (cosine)",
        ylabel="share of frames",
        title=f"{report['dataset']}: {report['people_enrolled']} people enrolled",
    )

    rows = report["by_gallery_size"]
    sizes = sorted({row["people"] for row in rows})
    for key, label, marker in (
        ("policy", "policy threshold", "o"),
        ("fixed", "threshold of a 1-person door", "s"),
    ):
        mine = [[r[key] for r in rows if r["people"] == n] for n in sizes]
        measured = [float(np.mean([r["stranger_let_in"] for r in group])) for group in mine]
        predicted = [group[0]["predicted_stranger_let_in"] for group in mine]
        line = by_size.plot(sizes, predicted, label=f"{label}: predicted")
        colour = line[0].get_color()
        seen = [(n, m) for n, m in zip(sizes, measured, strict=True) if m > 0]
        if seen:
            by_size.plot(*zip(*seen, strict=True), marker=marker, linestyle="", color=colour,
                         label=f"{label}: measured")  # fmt: skip
        # None seen is not zero: the 95 % upper bound of what the trials allow is drawn instead.
        unseen = [
            (n, max(r["stranger_let_in_upper_95"] for r in group))
            for n, m, group in zip(sizes, measured, mine, strict=True)
            if m == 0
        ]
        if unseen:
            by_size.plot(*zip(*unseen, strict=True), marker="v", linestyle="", color=colour,
                         fillstyle="none", label=f"{label}: none seen (95 % bound)")  # fmt: skip
        if key == "policy":
            accepted.plot(
                sizes,
                [float(np.mean([r["correct"] for r in group])) for group in mine],
                marker="o",
                label="residents let in (frames)",
            )
    target = report["policy"]["target_far_per_attempt"]
    by_size.axhline(target, color="grey", linestyle=":", label=f"target {target:g} per attempt")
    by_size.set(
        xscale="log",
        yscale="log",
        xlabel="people enrolled",
        ylabel="strangers let in (share of frames)",
        title="a stranger's chance grows with the gallery",
    )
    accepted.set(
        xscale="log",
        xlabel="people enrolled",
        ylabel="share of resident frames",
        title="the price: a stricter threshold",
        ylim=(0.5, 1.0),
    )
    for axis in (by_threshold, by_size, accepted):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="best", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
