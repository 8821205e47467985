"""Inline SVG for the report: the per-queue timeline, status strips and duration sparklines.

Strings are built here, not in the template: a 10,000-test timeline is 10,000 ``<rect>``
elements, and an f-string per element is several times faster than a Jinja loop. Every
piece of text that comes from a result (names, reasons) goes through ``markupsafe.escape``;
the result is returned as ``Markup`` so the autoescaping template inserts it as is.

Time axis: a job resumed a day later would be a thin line of tests at each end of a long
gap. The axis is the job's *running* time instead: each run (``job.runs``) is one segment
laid next to the previous one, and a dashed line marks where a pause was cut out.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from markupsafe import Markup, escape

from kvmtest.results.records import STATUSES, TestResult

#: CSS class per status (short: it is repeated on every bar).
STATUS_CLASS = {s: f"s{i}" for i, s in enumerate(STATUSES)}

LABEL_CHAR = 6.7  # px per character of the 11px monospace row labels
PLOT_W = 1000  # px for the time axis
ROW_H = 16
BAR_H = 12  # also in report.css (svg.timeline rect.bar height)
AXIS_H = 22
MIN_BAR = 0.6  # px: a 0-second test stays visible (its tooltip has the real duration)
TICK_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
              43200, 86400)


def hms(seconds: float) -> str:
    """``1:02:03`` / ``2:03`` / ``4.2s``: durations as people read them."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass
class TimeAxis:
    """Epoch seconds -> seconds of running time (the job's runs laid end to end)."""

    starts: List[float]  # segment starts, sorted
    ends: List[float]
    offsets: List[float]  # running time before each segment

    @classmethod
    def from_segments(cls, segments: Iterable[Tuple[float, float]]) -> TimeAxis:
        merged: List[List[float]] = []
        for a, b in sorted((a, max(a, b)) for a, b in segments):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        if not merged:
            merged = [[0.0, 0.0]]
        offsets, total = [], 0.0
        for a, b in merged:
            offsets.append(total)
            total += b - a
        return cls([m[0] for m in merged], [m[1] for m in merged], offsets)

    @property
    def length(self) -> float:
        return self.offsets[-1] + self.ends[-1] - self.starts[-1]

    @property
    def cuts(self) -> List[float]:
        """Running times where a pause between runs was left out."""
        return self.offsets[1:]

    def __call__(self, t: float) -> float:
        i = max(0, bisect.bisect_right(self.starts, t) - 1)
        return self.offsets[i] + min(max(t - self.starts[i], 0.0), self.ends[i] - self.starts[i])


def _tick_step(length: float, want: int = 8) -> float:
    for step in TICK_STEPS:
        if length / step <= want:
            return step
    return TICK_STEPS[-1] * int(length / TICK_STEPS[-1] / want + 1)


def _tick_label(t: float, step: float) -> str:
    """Axis labels: ``0.5s`` below a second's step, ``20s`` below a minute's, ``1:30`` (h:mm)."""
    if step < 1:
        return f"{t:.1f}s"
    if step < 60:
        return f"{int(round(t))}s"
    m = int(t) // 60
    return f"{m // 60}:{m % 60:02d}"


def _tooltip(r: TestResult) -> str:
    when = time.strftime("%H:%M:%S", time.localtime(r.start))
    extra = f" (attempt {r.attempt})" if r.attempt > 1 else ""
    accel = getattr(r, "accel", None)  # results.json v3: what its guests ran with
    if accel:
        extra += f" [{accel}]"
    reason = f"\n{r.reason_line}" if r.reason_line else ""
    return f"{r.id}{extra}\n{r.status} {hms(r.time)} at {when}{reason}"


def timeline_svg(tests: Sequence[TestResult], axis: TimeAxis,
                 superseded: Sequence[TestResult] = ()) -> Markup:
    """One row per host/queue, one ``<rect class="bar sN">`` per test with a ``<title>`` tooltip.

    Superseded attempts (runs before a ``--resume``) are drawn too, faded (class ``old``), so
    the time they took is visible; ``rect.bar:not(.old)`` counts the job's tests.
    """
    rows: Dict[Tuple[str, str], List[Tuple[TestResult, bool]]] = {}
    for r in tests:
        rows.setdefault((r.hostname, r.queue), []).append((r, False))
    for r in superseded:
        rows.setdefault((r.hostname, r.queue), []).append((r, True))
    length = axis.length or 1.0
    scale = PLOT_W / length
    longest = max((len(f"{h}/{q}") for h, q in rows), default=0)
    label_w = int(min(360, max(60, longest * LABEL_CHAR + 12)))
    height = AXIS_H + ROW_H * len(rows) + 4
    out: List[str] = [
        f'<svg class="timeline" width="{label_w + PLOT_W + 10}"'
        f' height="{height}" viewBox="0 0 {label_w + PLOT_W + 10} {height}" role="img"'
        f' aria-label="timeline: one row per host/queue, one bar per test">'
    ]
    step = _tick_step(length)
    for i in range(int(length / step + 1e-9) + 1):
        tick = i * step
        x = label_w + tick * scale
        out.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{AXIS_H - 4}" y2="{height}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{AXIS_H - 8}">{_tick_label(tick, step)}</text>')
    for cut in axis.cuts:
        x = label_w + cut * scale
        out.append(f'<line class="cut" x1="{x:.1f}" x2="{x:.1f}" y1="{AXIS_H - 4}" y2="{height}">'
                   '<title>a pause between runs of the job (--resume) is left out here</title></line>')
    for n, ((host, queue), items) in enumerate(sorted(rows.items())):
        y = AXIS_H + n * ROW_H
        busy = sum(r.time for r, old in items if not old)
        label = escape(f"{host}/{queue}")
        # bars: x and width only; the row's translate places them, CSS gives their height
        out.append(f'<g class="row" transform="translate(0,{y})"><text class="label"'
                   f' x="{label_w - 6}" y="{BAR_H - 2}">{label}<title>{label}: {len(items)}'
                   f' bar(s), {hms(busy)} of tests</title></text>')
        for r, old in items:
            x = label_w + axis(r.start) * scale
            w = max(MIN_BAR, (axis(r.end) - axis(r.start)) * scale)
            cls = STATUS_CLASS[r.status] + (" old" if old else "")
            out.append(f'<rect class="bar {cls}" x="{x:.1f}" width="{w:.1f}">'
                       f'<title>{escape(_tooltip(r))}</title></rect>')
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


def status_strip_svg(entries: Sequence[Tuple[str, str]], cell: int = 8) -> Markup:
    """A row of small squares, oldest first: (status, tooltip) per run of one test."""
    w = cell * len(entries)
    parts = [f'<svg class="strip" width="{w}" height="{cell}"'
             f' viewBox="0 0 {w} {cell}">']
    for i, (status, tip) in enumerate(entries):
        cls = STATUS_CLASS.get(status, "s4")
        parts.append(f'<rect class="{cls}" x="{i * cell}" y="0" width="{cell - 1}" height="{cell}">'
                     f'<title>{escape(tip)}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline_svg(values: Sequence[Optional[float]], width: int = 80, height: int = 16,
                  title: str = "") -> Markup:
    """A duration trend: one polyline through the known values (None: a run without one)."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return Markup("")
    lo = min(v for _, v in known)
    hi = max(v for _, v in known)
    span = (hi - lo) or 1.0
    step = width / max(1, len(values) - 1)
    pts = " ".join(f"{i * step:.1f},{height - 1 - (v - lo) / span * (height - 2):.1f}"
                   for i, v in known)
    tip = escape(title or f"duration {hms(lo)} .. {hms(hi)}")
    return Markup(f'<svg class="spark" width="{width}"'
                  f' height="{height}" viewBox="0 0 {width} {height}"><title>{tip}</title>'
                  f'<polyline points="{pts}"/></svg>')
