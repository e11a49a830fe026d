"""The plot of benchmarks/latency.py: frame times, stages, first face to lock, credentials."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot(
    path: Path,
    frame_totals: list[float],
    stages: dict[str, list[float]],
    lock_ms: list[float],
    credential_ms: dict[str, list[float]],
    *,
    frame_target_ms: float,
    lock_target_ms: float,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, middle, right, fourth) = plt.subplots(1, 4, figsize=(20, 4.2))
    left.hist(frame_totals, bins=40, color="tab:blue")
    left.axvline(frame_target_ms, color="red", linestyle="--", label="p95 target")
    left.set(title="frame arrival -> decision", xlabel="ms", ylabel="frames")
    left.legend()
    names = list(stages)
    middle.bar(names, [np.percentile(stages[n], 50) for n in names], label="p50")
    middle.bar(names, [np.percentile(stages[n], 95) for n in names], alpha=0.4, label="p95")
    middle.set(title="per stage", ylabel="ms")
    middle.legend()
    ordered = np.sort(lock_ms)
    right.step(ordered, np.arange(1, len(ordered) + 1) / max(len(ordered), 1), where="post")
    right.axvline(lock_target_ms, color="red", linestyle="--", label="p95 target")
    right.set(title="first face frame -> lock command received", xlabel="ms", ylabel="share")
    right.legend()
    fourth.step(
        ordered, np.arange(1, len(ordered) + 1) / max(len(ordered), 1), where="post", label="face"
    )
    for kind, values in credential_ms.items():
        kind_sorted = np.sort(values)
        fourth.step(
            kind_sorted,
            np.arange(1, len(kind_sorted) + 1) / max(len(kind_sorted), 1),
            where="post",
            label=kind,
        )
    fourth.set(
        title="credential published -> lock command received (R5)", xlabel="ms", ylabel="share"
    )
    fourth.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
