"""MobileFaceNet (192-d) on LiteRT: the default embedder, small enough for a Raspberry Pi."""

from __future__ import annotations

import threading
from collections.abc import Sequence
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
        self._lock = threading.Lock()  # shared by the engine's threads: one call at a time

    def embed(self, image: Image, face: Face) -> Vector:
        return self.embed_many([(image, face)])[0]

    def embed_many(self, items: Sequence[tuple[Image, Face]]) -> list[Vector]:
        vectors: list[Vector] = []
        for start in range(0, len(items), self._batch):
            chunk = items[start : start + self._batch]
            faces = [cv2.cvtColor(align(image, face), cv2.COLOR_BGR2RGB) for image, face in chunk]
            tensor = (np.stack(faces).astype(np.float32) - 127.5) / 128.0
            if len(chunk) < self._batch:
                # The graph's batch is fixed: fill the spare slots with a copy and ignore them.
                tensor = np.concatenate(
                    [tensor, np.repeat(tensor[-1:], self._batch - len(chunk), 0)]
                )
            with self._lock:
                self._interpreter.set_tensor(self._input, tensor)
                self._interpreter.invoke()
                output = self._interpreter.get_tensor(self._output).copy()
            vectors.extend(normalise(row) for row in output[: len(chunk)])
        return vectors
