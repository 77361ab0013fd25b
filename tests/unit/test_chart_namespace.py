"""Charts stay inline SVG whatever another library registered in ElementTree's global prefix
registry (WeasyPrint's parser registers "svg": a chart then written as <svg:svg> is no SVG
element in an HTML page, and the reports showed no chart after any PDF export)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from shareplatform.reports.charts import SVG, bar_svg, line_svg


def test_charts_use_no_prefix_after_another_library_registered_one() -> None:
    ET.register_namespace("svg", SVG)
    for svg in (bar_svg("T", ["a", "b"], [1, 2]), line_svg("T", ["Jan", "Feb"], [("x", [1, 2])])):
        assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"'), svg[:80]
        assert "<svg:" not in svg
