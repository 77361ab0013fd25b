"""A bar chart's labels never overlap, however long the category names or many the bars.

Text boxes are estimated as the chart module lays them out (charts.text_width): no font metrics.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from shareplatform.reports.charts import STYLE, SVG, bar_svg, text_width

LONG = [
    f"Standard {n}: contact with the offender manager within ten working days of release: not met"
    for n in range(12)
]

Box = tuple[float, float, float, float]  # left, top, right, bottom in the chart's own pixels


def _offset(group: ET.Element) -> tuple[float, float]:
    found = re.fullmatch(r"translate\(([-\d.]+),\s*([-\d.]+)\)", group.get("transform", ""))
    return (float(found[1]), float(found[2])) if found else (0.0, 0.0)


def _box(x: float, baseline: float, text: str, anchor: str) -> Box:
    size = STYLE.label_font_size
    width = text_width(text, size)
    left = {"end": x - width, "middle": x - width / 2}.get(anchor, x)
    return (left, baseline - size, left + width, baseline)


def label_boxes(svg: str) -> list[tuple[str, Box]]:
    """Every label drawn: category lines (anchored at their end), value ticks, printed values."""
    boxes = []
    for plot in ET.fromstring(svg).iter(f"{{{SVG}}}g"):  # noqa: S314 - our own output
        if "plot" not in plot.get("class", "").split():
            continue
        dx, dy = _offset(plot)
        for part in plot.findall(f"{{{SVG}}}g"):  # the axes, the series
            kind = part.get("class", "")
            for text in part.iter(f"{{{SVG}}}text"):
                x, y = float(text.get("x", 0)) + dx, float(text.get("y", 0)) + dy
                anchor = "end" if kind == "axis y" else "middle"
                lines = text.findall(f"{{{SVG}}}tspan")
                if not lines:
                    boxes.append((text.text or "", _box(x, y, text.text or "", anchor)))
                for line in lines:
                    y += float(line.get("dy", 0))
                    boxes.append((line.text or "", _box(x, y, line.text or "", anchor)))
    return boxes


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_long_category_labels_leave_no_two_label_boxes_overlapping() -> None:
    svg = bar_svg("Standards", LONG, [n * 7 % 13 + 1 for n in range(len(LONG))])
    boxes = label_boxes(svg)
    assert len(boxes) > len(LONG)
    clashes = [(a, b) for (a, ab), (b, bb) in itertools.combinations(boxes, 2) if _overlap(ab, bb)]
    assert clashes == []
    width = float(ET.fromstring(svg).get("viewBox", "0 0 0 0").split()[2])  # noqa: S314
    assert all(box[0] >= 0 and box[2] <= width for _, box in boxes)  # nothing cut off either


def test_a_label_cut_short_keeps_its_full_text_in_a_title() -> None:
    label = "A category name far too long to fit the label column in three lines " * 3
    svg = bar_svg("Chart", [label, "Short"], [3, None])
    assert f"<title>{label}</title>" in svg
    assert "<title>Short</title>" not in svg and svg.count("<title>Chart</title>") >= 1
    assert "…" in svg


def test_short_labels_stay_on_one_line() -> None:
    svg = bar_svg("Cases by phase", ["Pre-release", "In custody"], [3, 4])
    assert svg.count("<tspan") == 2 and ">Pre-release</tspan>" in svg
