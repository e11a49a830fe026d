"""MobileFaceNet (192-d) on LiteRT: the default embedder, small enough for a Raspberry Pi."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from facegate.models import model_path
from facegate.vision.align import align
from facegate.vision.embed import normalise
from facegate.vision.types import Face, Image, Vector

MODEL = "MobileFaceNet.tflite"


class MobileFaceNet:
    name = "mobilefacenet"
    dim = 192

    def __init__(self, models_dir: Path) -> None:
        self._interpreter = Interpreter(
            model_path=str(model_path(models_dir, MODEL)), num_threads=1
        )
        self._interpreter.allocate_tensors()
        detail = self._interpreter.get_input_details()[0]
        self._input = detail["index"]
        # The exported graph takes a fixed batch of two faces (it was built to compare a pair).
        self._batch = int(detail["shape"][0])
        self._output = self._interpreter.get_output_details()[0]["index"]

    def embed(self, image: Image, face: Face) -> Vector:
        rgb = cv2.cvtColor(align(image, face), cv2.COLOR_BGR2RGB).astype(np.float32)
        tensor = np.repeat(((rgb - 127.5) / 128.0)[None], self._batch, axis=0)
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        return normalise(self._interpreter.get_tensor(self._output)[0])
