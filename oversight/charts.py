"""Charts drawn on the server as SVG shapes (no script, no external resource, strict CSP): the
template only places the rectangles and labels computed here."""

from __future__ import annotations

from typing import Any

# overdue age: from amber to dark red as cases get older
AGE_COLOURS = ("#f2b84b", "#e8833a", "#d24b2f", "#8f1d1d")
FILED_COLOUR = "#5b8def"
COMPLETED_COLOUR = "#2f9e6e"


def stacked_bars(
    rows: list[tuple[str, dict[str, int]]], keys: list[str], *, width: int = 560
) -> dict[str, Any]:
    """One horizontal bar per row, split into ``keys`` (e.g. overdue age buckets)."""
    label_w, bar_h, gap, top = 110, 22, 12, 8
    plot_w = width - label_w - 50
    biggest = max([sum(values.values()) for _label, values in rows] + [1])
    bars = []
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        x: float = label_w
        parts = []
        for j, key in enumerate(keys):
            n = values.get(key, 0)
            w = round(plot_w * n / biggest, 1)
            if n:
                parts.append(
                    {
                        "x": x,
                        "y": y,
                        "w": max(w, 1.5),
                        "h": bar_h,
                        "fill": AGE_COLOURS[j % 4],
                        "title": f"{label} {key}: {n}",
                    }
                )
            x += w
        bars.append(
            {
                "label": label,
                "label_y": y + bar_h * 0.7,
                "parts": parts,
                "total": sum(values.values()),
                "total_x": x + 6,
            }
        )
    height = top + len(rows) * (bar_h + gap) + 30
    legend = [
        {
            "x": label_w + i * 90,
            "y": height - 16,
            "fill": AGE_COLOURS[i % 4],
            "label": key,
            "text_x": label_w + i * 90 + 16,
            "text_y": height - 6,
        }
        for i, key in enumerate(keys)
    ]
    return {"width": width, "height": height, "bars": bars, "legend": legend}


def weekly_bars(
    weeks: list[dict[str, Any]], *, width: int = 360, height: int = 170
) -> dict[str, Any]:
    """Filed cases and completed steps per week, side by side."""
    left, bottom, top = 34, 22, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    biggest = max([max(w["filed"], w["completed"]) for w in weeks] + [1])
    slot = plot_w / max(len(weeks), 1)
    bar_w = max(slot / 2 - 3, 2)
    groups = []
    for i, w in enumerate(weeks):
        x = left + i * slot
        filed_h = plot_h * w["filed"] / biggest
        done_h = plot_h * w["completed"] / biggest
        groups.append(
            {
                "filed": {
                    "x": round(x + 1, 1),
                    "y": round(top + plot_h - filed_h, 1),
                    "w": round(bar_w, 1),
                    "h": round(filed_h, 1),
                    "n": w["filed"],
                },
                "completed": {
                    "x": round(x + 2 + bar_w, 1),
                    "y": round(top + plot_h - done_h, 1),
                    "w": round(bar_w, 1),
                    "h": round(done_h, 1),
                    "n": w["completed"],
                },
                "label": w["week"][5:],
                "label_x": round(x + slot / 2, 1),
                "show_label": i % 2 == 0,
                "week": w["week"],
            }
        )
    return {
        "width": width,
        "height": height,
        "groups": groups,
        "max": biggest,
        "axis_y": top + plot_h,
        "top": top,
        "left": left,
        "label_y": height - 6,
        "filed_colour": FILED_COLOUR,
        "completed_colour": COMPLETED_COLOUR,
    }
