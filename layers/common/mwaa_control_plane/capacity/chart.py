"""A small PNG of queue against capacity, drawn with the standard library (zlib) alone: no plotting library in the
layer for one picture.

The flow asks CloudWatch first (``GetMetricWidgetImage``, with labels and axes); this chart is what the report
carries where CloudWatch cannot render (the local runtime: moto has no ``GetMetricWidgetImage``). It has no text:
the Markdown report names the colours (:data:`LEGEND`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from mwaa_control_plane.capacity.configuration import Capacity
from mwaa_control_plane.capacity.scenario import Scenario
from mwaa_control_plane.capacity.series import observe

WIDTH, HEIGHT, MARGIN = 720, 280, 10
Colour = tuple[int, int, int]
WAITING: Colour = (214, 39, 40)
RUNNING: Colour = (31, 119, 180)
SLOTS_UP: Colour = (44, 160, 44)
SLOTS_AT_MAX: Colour = (150, 150, 150)
LEGEND = (
    "red: tasks waiting (queued + starving); blue: running; green: slots of the workers up; "
    "grey: slots at MaxWorkers; one pixel column per minute of the window"
)


def _png(pixels: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _plot(pixels: list[bytearray], values: Sequence[float | None], top: float, colour: Colour) -> None:
    """A line through the known values (a gap where a value is unknown), two pixels thick."""
    width, height = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def point(index: int, value: float) -> tuple[int, int]:
        x = MARGIN + round(index * (width - 1) / max(len(values) - 1, 1))
        y = MARGIN + height - 1 - round(min(value, top) / top * (height - 1))
        return x, y

    def dot(x: int, y: int) -> None:
        for dy in (0, 1):
            if 0 <= y + dy < HEIGHT:
                pixels[y + dy][3 * x : 3 * x + 3] = bytes(colour)

    previous: tuple[int, int] | None = None
    for index, value in enumerate(values):
        if value is None:
            previous = None
            continue
        current = point(index, value)
        if previous is None:
            dot(*current)
        else:
            (x0, y0), (x1, y1) = previous, current
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for step in range(steps + 1):
                dot(x0 + round((x1 - x0) * step / steps), y0 + round((y1 - y0) * step / steps))
        previous = current


def render_chart_png(scenario: Scenario, capacity: Capacity) -> bytes:
    """Waiting and running tasks, the slots of the workers up and the slots at MaxWorkers, per minute."""
    observations = observe(scenario)
    waiting = observations.waiting()
    running = observations["running"].values
    slots_up = tuple(None if w is None else w * capacity.per_worker for w in observations.workers(capacity))
    at_max = (float(capacity.max_slots),) * observations.minutes
    known = [v for series in (waiting, running, slots_up, at_max) for v in series if v is not None]
    top = max([*known, 1.0]) * 1.1
    pixels = [bytearray(b"\xff" * (3 * WIDTH)) for _ in range(HEIGHT)]
    for series, colour in ((at_max, SLOTS_AT_MAX), (slots_up, SLOTS_UP), (running, RUNNING), (waiting, WAITING)):
        _plot(pixels, series, top, colour)
    return _png(pixels)
