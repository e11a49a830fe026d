"""The liveness benchmark's picture: each item's best live score; the rates at each threshold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

_COLOURS = {"live": "tab:green", "print": "tab:orange", "replay": "tab:red"}


def write_plot(report: Mapping[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (scores, rates) = plt.subplots(1, 2, figsize=(13, 4.8))
    rng = np.random.default_rng(0)
    for row, label in enumerate(("live", "print", "replay")):
        items = [i for i in report["items"] if i["label"] == label]
        if not items:
            continue
        # An item that no window could score (vetoed or without evidence) is drawn at 0.
        values = [i["best_score"] if i["best_score"] is not None else 0.0 for i in items]
        jitter = row + rng.uniform(-0.25, 0.25, len(values))
        scores.scatter(values, jitter, s=10, alpha=0.6, color=_COLOURS[label], label=label)
    threshold = report["live_threshold"]
    scores.axvline(threshold, color="grey", linestyle=":", label=f"threshold {threshold}")
    scores.set(
        yticks=[0, 1, 2],
        yticklabels=["live", "print", "replay"],
        xlabel="best mean live score of a window passing every other check (0: none did)",
        title=title,
        xlim=(-0.02, 1.02),
    )
    sweep = report["sweep"]
    thresholds = [row["threshold"] for row in sweep]
    for key, label, colour in (
        ("bpcer", "BPCER: live refused or not judged", _COLOURS["live"]),
        ("bpcer_judged", "BPCER: live refused, of those judged", "tab:olive"),
        ("apcer_print", "APCER: print passed", _COLOURS["print"]),
        ("apcer_replay", "APCER: replay passed", _COLOURS["replay"]),
    ):
        if all(key in row for row in sweep):
            rates.plot(thresholds, [row[key] for row in sweep], label=label, color=colour)
    rates.axvline(threshold, color="grey", linestyle=":")
    rates.set(xlabel="live threshold", ylabel="share of items", ylim=(-0.02, 1.02))
    rates.set_title("at each live threshold (vetoes and the motion check still on)")
    for axis in (scores, rates):
        axis.grid(True, alpha=0.3)
        axis.legend(loc="best", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
