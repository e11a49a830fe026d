"""Converts the MiniFASNet weights to the ONNX and TFLite files facegate ships (vision/minifasnet/).

    # in a scratch environment, not the engine's:
    pip install torch==2.13.0 onnx==1.23.2 onnx2tf==1.28.8 tensorflow-cpu==2.21.0 \\
        tf_keras==2.21.0 onnx_graphsurgeon==0.6.1 sng4onnx==2.0.1 onnxsim==0.8.1 psutil==7.2.2 \\
        ai-edge-litert==2.3.0 opencv-python-headless
    python scripts/convert_minifasnet.py --upstream ../shared/models/minifasnet/upstream \\
        --out addon/facegate/vision/minifasnet

The upstream network definitions (`src/model_lib/MiniFASNet.py`) and the `.pth` weights of
minivision-ai/Silent-Face-Anti-Spoofing (Apache-2.0) are read from `--upstream`; nothing of them
is kept in this repository but the converted files. Each state dict loses its `module.` prefix,
the network is built for 80x80 input (conv6 kernel (5, 5)) and exported at opset 13 with input
`input` (1x3x80x80) and output `logits` (1x3). The result is checked against `--parity` (logits
the PyTorch originals give for a fixed input) with OpenCV's DNN module.
With torch 2.13.0 it writes the shipped files byte for byte (the SHA-256 pinned in models.py);
another PyTorch may write other bytes for the same network, which is why the check is the logits.

Each ONNX file is then converted to the TFLite file the engine runs (onnx2tf, float32, input
1x80x80x3) and checked against the same logits on LiteRT. onnx2tf fetches a sample image array
from the internet to test its output; a stand-in array is written where it looks first, so the
conversion runs offline.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

MODELS = {
    "2.7_80x80_MiniFASNetV2": "MiniFASNetV2",
    "4_0_0_80x80_MiniFASNetV1SE": "MiniFASNetV1SE",
}


def convert(upstream: Path, out: Path, parity: Path) -> None:
    import torch

    sys.path.insert(0, str(upstream))
    from src.model_lib import MiniFASNet  # the upstream network code

    out.mkdir(parents=True, exist_ok=True)
    sample = np.load(parity / "input_2x3x80x80.npy")
    for stem, class_name in MODELS.items():
        state = torch.load(upstream / f"{stem}.pth", map_location="cpu")
        state = {key.removeprefix("module."): value for key, value in state.items()}
        network = getattr(MiniFASNet, class_name)(conv6_kernel=(5, 5))
        network.load_state_dict(state)
        network.eval()
        target = out / f"{stem}.onnx"
        torch.onnx.export(
            network,
            torch.zeros(1, 3, 80, 80),
            str(target),
            opset_version=13,
            input_names=["input"],
            output_names=["logits"],
            dynamo=False,  # the TorchScript exporter, as the shipped files were made
        )
        net = cv2.dnn.readNetFromONNX(str(target))
        logits = []
        for row in sample:
            net.setInput(row[None])
            logits.append(net.forward().reshape(-1))
        expected = np.load(parity / f"logits_{stem}.npy")
        worst = float(np.max(np.abs(np.asarray(logits) - expected)))
        if worst > 1e-4:
            raise SystemExit(f"{target}: logits differ from PyTorch's by {worst}")
        print(f"{target}: logits within {worst:.1e} of PyTorch's")
        to_tflite(target, out / f"{stem}.tflite", sample, expected)


def to_tflite(onnx_file: Path, target: Path, sample: np.ndarray, expected: np.ndarray) -> None:
    with tempfile.TemporaryDirectory() as work:
        # onnx2tf's own test data, looked for in the working directory before it downloads it.
        stand_in = np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32)
        np.save(Path(work) / "calibration_image_sample_data_20x128x128x3_float32.npy", stand_in)
        # A copy: onnx2tf simplifies the file it is given in place.
        shutil.copyfile(onnx_file, Path(work) / onnx_file.name)
        command = ["onnx2tf", "-i", onnx_file.name, "-o", "saved"]
        subprocess.run(command, cwd=work, check=True, stdout=subprocess.DEVNULL)
        shutil.copyfile(Path(work) / "saved" / f"{onnx_file.stem}_float32.tflite", target)
    check_tflite(target, sample, expected)


def check_tflite(target: Path, sample: np.ndarray, expected: np.ndarray) -> None:
    """The file's logits through the engine's own wrapper, against PyTorch's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "addon"))
    from facegate.vision.liveness import LivenessNet

    net = LivenessNet(target)
    crops = [np.ascontiguousarray(row.transpose(1, 2, 0)[None]) for row in sample]
    logits = [net.logits(crop) for crop in crops]
    worst = float(np.max(np.abs(np.asarray(logits) - expected)))
    if worst > 1e-4:
        raise SystemExit(f"{target}: logits differ from PyTorch's by {worst}")
    print(f"{target}: logits within {worst:.1e} of PyTorch's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--parity", type=Path, help="default: <upstream>/../parity")
    args = parser.parse_args()
    convert(args.upstream, args.out, args.parity or args.upstream.parent / "parity")


if __name__ == "__main__":
    main()
