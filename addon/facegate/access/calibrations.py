"""Each embedder's open-set calibration: the built-in ones, and a custom model's file.

The built-in numbers are the output of (one line)

    facegate calibrate --embedder E --json benchmarks/out/calibration-E.json
        --dataset ../shared/data/faces/east_asian_dev/eastasian_celeb_v1
        --dataset ../shared/data/faces/verify_dev

on 2026-12-02: every person enrolled from their first 3 images (mean template), every usable
image against every other enrolled person (36,524 East-Asian and 3,317,058 LFW stranger
comparisons), the top 1 % of each fitted with a tail never lighter than exponential
(policy.fit_tail; `fitted_shape` is what the data alone said). tests/engine/test_eval_door.py
fits the East-Asian tail again and compares. With the default strict target (0.1 % per
attempt) `fused` needs 0.562 at a door of 10 people, 0.647 at 93 and 0.738 at 1,008; the
East-Asian tail decides all three, as East-Asian strangers score higher against each other.
"""

from __future__ import annotations

import json
from pathlib import Path

from facegate.access.policy import CALIBRATION_FORMAT, Calibration, ImpostorTail
from facegate.config import Config
from facegate.errors import ConfigError

_EAST_ASIAN = "eastasian_celeb_v1"
_LFW = "verify_dev"


BUILT_IN: dict[str, Calibration] = {
    "fused": Calibration(
        embedder="fused",
        max_spread=0.615,
        margin=0.05,
        tails=(
            ImpostorTail(
                dataset=_EAST_ASIAN,
                comparisons=36524,
                onset=0.38482,
                onset_rate=0.00999342897820611,
                scale=0.03831,
                shape=0.0,
                fitted_shape=-0.0095,
                highest=0.6287,
            ),
            ImpostorTail(
                dataset=_LFW,
                comparisons=3317058,
                onset=0.31158,
                onset_rate=0.01000012661822615,
                scale=0.03774,
                shape=0.0,
                fitted_shape=-0.1186,
                highest=0.6199,
            ),
        ),
    ),
    "sface": Calibration(
        embedder="sface",
        max_spread=0.686,
        margin=0.05,
        tails=(
            ImpostorTail(
                dataset=_EAST_ASIAN,
                comparisons=36524,
                onset=0.31435,
                onset_rate=0.00999342897820611,
                scale=0.0363,
                shape=0.0,
                fitted_shape=-0.093,
                highest=0.5003,
            ),
            ImpostorTail(
                dataset=_LFW,
                comparisons=3317058,
                onset=0.30874,
                onset_rate=0.01000012661822615,
                scale=0.031,
                shape=0.0,
                fitted_shape=-0.0872,
                highest=0.5708,
            ),
        ),
    ),
    "mobilefacenet": Calibration(
        embedder="mobilefacenet",
        max_spread=0.518,
        margin=0.05,
        tails=(
            ImpostorTail(
                dataset=_EAST_ASIAN,
                comparisons=36524,
                onset=0.48186,
                onset_rate=0.00999342897820611,
                scale=0.04714,
                shape=0.0,
                fitted_shape=-0.0955,
                highest=0.7549,
            ),
            ImpostorTail(
                dataset=_LFW,
                comparisons=3317058,
                onset=0.35929,
                onset_rate=0.01000012661822615,
                scale=0.04679,
                shape=0.0,
                fitted_shape=-0.1279,
                highest=0.709,
            ),
        ),
    ),
    "dlib": Calibration(
        embedder="dlib",
        max_spread=0.045,
        margin=0.05,
        tails=(
            ImpostorTail(
                dataset=_EAST_ASIAN,
                comparisons=36524,
                onset=0.95454,
                onset_rate=0.00999342897820611,
                scale=0.00444,
                shape=0.0,
                fitted_shape=-0.1982,
                highest=0.9796,
            ),
            ImpostorTail(
                dataset=_LFW,
                comparisons=3317058,
                onset=0.91647,
                onset_rate=0.01000012661822615,
                scale=0.00763,
                shape=0.0,
                fitted_shape=-0.136,
                highest=0.9702,
            ),
        ),
    ),
}


def save(calibration: Calibration, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(calibration.to_json(), indent=2) + "\n", encoding="utf-8")


def load(path: Path, *, embedder: str, model_sha256: str | None, hint: str) -> Calibration:
    """A calibration file for exactly this model; anything else is refused, with `hint`
    saying how to make the right one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"the {embedder} model is not calibrated: {path} does not exist. {hint}"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"calibration file {path} cannot be read ({error}). {hint}") from None
    try:
        calibration = Calibration.from_json(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            f"calibration file {path} is not a facegate calibration (format "
            f"{CALIBRATION_FORMAT}): {error}. {hint}"
        ) from None
    if calibration.embedder != embedder or calibration.model_sha256 != model_sha256:
        raise ConfigError(
            f"calibration file {path} belongs to another model ({calibration.embedder}, sha256 "
            f"{calibration.model_sha256}; this one is {embedder}, {model_sha256}). {hint}"
        )
    return calibration


def configured(config: Config, config_path: str = "FILE") -> Calibration:
    """The calibration a configuration runs with; an uncalibrated custom model does not start."""
    embedder = config.embedder
    if embedder != "custom":
        return BUILT_IN[embedder]
    if config.custom_model is None or config.calibration_file is None:
        raise ConfigError("embedder custom needs custom_model settings")
    model_sha256 = config.custom_model.sha256
    calibration_file = config.calibration_file
    hint = (
        f"Calibrate it on labelled faces of your residents' population first: `facegate "
        f"calibrate --config {config_path} --dataset DIR` (DIR holds a folder of photos per "
        "person, at least 3 photos each for most people); see README, Bring your own model"
    )
    return load(calibration_file, embedder=embedder, model_sha256=model_sha256, hint=hint)
