"""Serve an H.264 mp4 clip over RTSP on 127.0.0.1, paced like a real door camera.

Run by Debian's own interpreter, which has GStreamer's introspection bindings (the engine's
virtualenv does not):

    /usr/bin/python3 simulated_camera_server.py --file CLIP.mp4 --port PORT [--mount /door] [--loop]

Standalone on purpose: stdlib and gi only, nothing from facegate.
`facegate.simulated_camera.RtspServer` starts it as a subprocess and waits for the
`READY rtsp://...` line on stdout.

The clip's access units are demuxed once into memory and replayed from an appsrc with
rewritten timestamps. That gives every client its own copy from the first frame and lets
`--loop` repeat forever with continuous timestamps, which a seek-based loop inside
gst-rtsp-server's media cannot do cleanly. The server's sinks sync to the clock, so frames go
out at the clip's own rate rather than as fast as possible.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_NO_GI = 3
EXIT_BAD_CLIP = 4
EXIT_BIND = 5

try:
    import gi  # type: ignore[import-not-found, unused-ignore]

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import (  # type: ignore[import-not-found, unused-ignore]
        GLib,
        Gst,
        GstRtspServer,
    )
except (ImportError, ValueError) as exc:  # ValueError: gi present, typelib missing
    print(
        f"simulated camera: GStreamer RTSP bindings unavailable ({exc}); install the Debian "
        "packages python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
        "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad",
        file=sys.stderr,
        flush=True,
    )
    sys.exit(EXIT_NO_GI)

_DEMUX = (
    "filesrc name=file ! qtdemux ! h264parse config-interval=-1 ! "
    "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
)
# h264parse/rtph264pay config-interval=-1 put SPS/PPS before every IDR frame, so a client that
# joins mid-stream (or reconnects) can decode from the next key frame.
_SERVE = (
    "( appsrc name=src is-live=false format=time ! "
    "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)


@dataclass(frozen=True)
class AccessUnit:
    data: bytes
    pts: int
    dts: int
    duration: int
    delta: bool


@dataclass(frozen=True)
class Clip:
    caps: Any
    units: list[AccessUnit]
    period: int  # ns between the first frame of one loop and the first of the next


def _valid(ts: int) -> bool:
    return bool(ts != Gst.CLOCK_TIME_NONE)


def load_clip(path: Path) -> Clip:
    """Demux the clip's H.264 access units (SPS/PPS in-band) into memory."""
    pipeline = Gst.parse_launch(_DEMUX)
    pipeline.get_by_name("file").set_property("location", str(path))
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    raw: list[tuple[bytes, int, int, int, bool]] = []
    caps = None
    try:
        while True:
            sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
            if sample is None:
                break
            caps = caps or sample.get_caps()
            buf = sample.get_buffer()
            ok, info = buf.map(Gst.MapFlags.READ)
            if not ok:
                continue
            try:
                data = bytes(info.data)
            finally:
                buf.unmap(info)
            delta = bool(buf.get_flags() & Gst.BufferFlags.DELTA_UNIT)
            raw.append((data, buf.pts, buf.dts, buf.duration, delta))
        message = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if message is not None:
            err, _ = message.parse_error()
            raise RuntimeError(f"cannot demux {path}: {err.message}")
    finally:
        pipeline.set_state(Gst.State.NULL)
    if not raw or caps is None:
        raise RuntimeError(f"no H.264 video in {path}")

    pts_known = [pts for _, pts, _, _, _ in raw if _valid(pts)]
    if len(pts_known) != len(raw):
        raise RuntimeError(f"{path}: frames without timestamps")
    dts_known = [dts for _, _, dts, _, _ in raw if _valid(dts)]
    # DTS can precede PTS (B-frames); shifting both by the earliest keeps them unsigned.
    origin = min(pts_known + dts_known)
    ordered = sorted(pts_known)
    gaps = sorted(b - a for a, b in itertools.pairwise(ordered))
    frame = gaps[len(gaps) // 2] if gaps else Gst.SECOND // 10
    units = [
        AccessUnit(
            data=data,
            pts=pts - origin,
            dts=(dts - origin) if _valid(dts) else pts - origin,
            duration=duration if _valid(duration) else frame,
            delta=delta,
        )
        for data, pts, dts, duration, delta in raw
    ]
    period = max(u.pts + u.duration for u in units)
    return Clip(caps=caps, units=units, period=period)


class Feeder:
    """Feeds one client's appsrc: the clip once then EOS, or forever."""

    def __init__(self, clip: Clip, loop: bool) -> None:
        self.clip = clip
        self.loop = loop
        self.index = 0
        self.round = 0
        self.finished = False

    def need_data(self, src: Any, _length: int) -> None:
        if self.finished:
            return
        units = self.clip.units
        if self.index >= len(units):
            if not self.loop:
                self.finished = True
                src.emit("end-of-stream")
                return
            self.index = 0
            self.round += 1
        unit = units[self.index]
        self.index += 1
        offset = self.round * self.clip.period
        buf = Gst.Buffer.new_wrapped(unit.data)
        buf.pts = unit.pts + offset
        buf.dts = unit.dts + offset
        buf.duration = unit.duration
        if unit.delta:
            buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
        src.emit("push-buffer", buf)


def make_factory(clip: Clip, loop: bool) -> Any:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(_SERVE)
    # Not shared: each client gets its own pipeline, so each starts at the clip's first frame.
    factory.set_shared(False)

    def on_configure(_factory: Any, media: Any) -> None:
        src = media.get_element().get_by_name_recurse_up("src")
        src.set_property("caps", clip.caps)
        feeder = Feeder(clip, loop)
        # The media owns the appsrc; keeping the feeder on it ties their lifetimes together.
        media.feeder = feeder
        src.connect("need-data", feeder.need_data)

    factory.connect("media-configure", on_configure)
    return factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--file", required=True, type=Path, help="H.264 mp4 clip to serve")
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--mount", default="/door")
    parser.add_argument("--loop", action="store_true", help="repeat the clip forever")
    args = parser.parse_args(argv)
    mount = args.mount if args.mount.startswith("/") else "/" + args.mount

    Gst.init(None)
    try:
        clip = load_clip(args.file)
    except (RuntimeError, GLib.Error) as exc:
        print(f"simulated camera: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_CLIP

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")  # a test camera never listens beyond loopback
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(mount, make_factory(clip, args.loop))
    if server.attach(None) == 0:
        print(
            f"simulated camera: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True
        )
        return EXIT_BIND

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda *_: loop.quit() or False)
    print(f"READY rtsp://127.0.0.1:{server.get_bound_port()}{mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
