"""A tiny line chart as PNG with Pillow (no matplotlib): p99 against the number of delegates.

    line_chart({"page turn, live": [(250, 93.2), (500, 564.3)], ...}, Path("bench/fanout.png"),
               title="Fan-out p99 (ms) by delegates", x_label="delegates", y_label="p99 ms")

Each series is a list of (x, y) points; dashed lines for series whose name contains "bare"
(the baselines), solid for the others, one colour per scenario. Nothing here measures anything.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 40, 50
COLOURS = [(200, 30, 30), (30, 90, 200), (20, 140, 60), (150, 60, 170), (220, 130, 0)]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        from meetings.core.fonts import font_path

        return ImageFont.truetype(str(font_path()), size)
    except Exception:  # no project font here: Pillow's own bitmap font still draws digits and Latin
        return ImageFont.load_default()


def _nice_max(value: float) -> float:
    """The smallest 1/2/5 × 10^k at or above ``value``, so the y axis ends on a round number."""
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step


def _dashed(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], colour, width: int) -> None:
    (x0, y0), (x1, y1) = a, b
    length = max(1.0, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
    dash = 8
    for k in range(0, int(length), 2 * dash):
        t0, t1 = k / length, min(1.0, (k + dash) / length)
        draw.line([(x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0), (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1)],
                  fill=colour, width=width)


def line_chart(series: dict[str, list[tuple[float, float]]], path: Path, *, title: str, x_label: str,
               y_label: str) -> Path | None:
    """Draw ``series`` and save the PNG to ``path``; None (and no file) when there is nothing to draw."""
    points = [(x, y) for pts in series.values() for x, y in pts if y == y and y is not None]  # y == y: not NaN
    if not points:
        return None
    xs = sorted({x for x, _ in points})
    x_min, x_max = 0.0, _nice_max(max(xs)) if max(xs) > 0 else 1.0  # from 0: growth reads in proportion
    x_span = x_max - x_min
    y_max = _nice_max(max(y for _, y in points) or 1.0)
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    small, big = _font(12), _font(15)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return LEFT + (x - x_min) / x_span * plot_w, TOP + plot_h - y / y_max * plot_h

    draw.text((LEFT, 10), title, fill="black", font=big)
    for k in range(6):  # horizontal grid and y ticks
        y = y_max * k / 5
        _, py = at(x_min, y)
        draw.line([(LEFT, py), (LEFT + plot_w, py)], fill=(225, 225, 225))
        draw.text((LEFT - 8, py), f"{y:g}", fill="black", font=small, anchor="rm")
    for x in sorted({0.0, *xs}):
        px, _ = at(x, 0)
        draw.line([(px, TOP + plot_h), (px, TOP + plot_h + 5)], fill="black")
        draw.text((px, TOP + plot_h + 8), f"{x:g}", fill="black", font=small, anchor="mt")
    draw.line([(LEFT, TOP), (LEFT, TOP + plot_h), (LEFT + plot_w, TOP + plot_h)], fill="black", width=1)
    draw.text((LEFT + plot_w / 2, HEIGHT - 14), x_label, fill="black", font=small, anchor="mm")
    draw.text((8, TOP - 18), y_label, fill="black", font=small)

    scenarios: list[str] = []
    for row, (name, pts) in enumerate(series.items()):
        scenario = name.rsplit(",", 1)[0]
        if scenario not in scenarios:
            scenarios.append(scenario)
        colour = COLOURS[scenarios.index(scenario) % len(COLOURS)]
        pts = sorted((x, y) for x, y in pts if y is not None and y == y)
        xy = [at(x, y) for x, y in pts]
        for a, b in zip(xy, xy[1:], strict=False):
            if "bare" in name:
                _dashed(draw, a, b, colour, 2)
            else:
                draw.line([a, b], fill=colour, width=2)
        for px, py in xy:
            draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=colour)
        ly = TOP + 10 + row * 20  # legend
        lx = WIDTH - RIGHT + 15
        if "bare" in name:
            _dashed(draw, (lx, ly), (lx + 24, ly), colour, 2)
        else:
            draw.line([(lx, ly), (lx + 24, ly)], fill=colour, width=2)
        draw.text((lx + 30, ly), name, fill="black", font=small, anchor="lm")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)
    return path
