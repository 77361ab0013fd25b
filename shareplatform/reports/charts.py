"""Server-side SVG charts with pygal, made safe to inline under the page's CSP.

pygal embeds a configuration <script> (and script references unless js=[]) and an inline <style>.
The page's CSP allows neither inline scripts nor inline styles, and a chart needs no script: both
elements and any event-handler attribute are removed from the parsed SVG, and the chart stylesheet
(pygal's own CSS, generated unprefixed) is served as a file from this origin.
"""

from __future__ import annotations

import functools
import sys
import xml.etree.ElementTree as ET

import pygal
from pygal.style import Style

# pygal appends a sys.meta_path finder for its map plugins that has no find_spec(): every later
# import of a missing module then raises ImportWarning (an error under our test settings).
# No map plugin is used here, so take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)

# GOV.UK colours; the font is the page's own.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    colors=("#1d70b8",),
    font_family="GDS Transport, arial, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=14,
    title_font_size=16,
)


def _chart(labels: list[str], values: list[int | None], title: str) -> pygal.HorizontalBar:
    chart = pygal.HorizontalBar(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        show_legend=False,
        width=720,
        height=max(160, 70 + 44 * len(labels)),
        print_values=True,
        explicit_size=False,
        include_x_axis=True,
        min_scale=1,
        max_scale=10,
        tooltip_fancy_mode=False,
        truncate_label=60,
    )
    chart.x_labels = labels
    chart.add(title, values)
    return chart


def bar_svg(title: str, labels: list[str], values: list[int | None]) -> str:
    """A horizontal bar chart as inline SVG: no script, no style element, no event attributes.

    A value of None draws no bar (a suppressed small number); the data table beside it says why.
    No style attribute either: the page's CSP refuses inline styles.
    """
    raw = _chart(labels, values, title).render(is_unicode=True)
    root = ET.fromstring(raw)  # noqa: S314 - pygal's own output, made in this process
    _strip(root)
    for node in root.iter(f"{{{SVG}}}title"):
        node.text = title
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("focusable", "false")
    root.set("class", "app-chart pygal-chart")
    text = ET.tostring(root, encoding="unicode")
    if (
        "<script" in text or "<style" in text or " style=" in text
    ):  # pragma: no cover - guarded by _strip
        raise ValueError("chart still holds a script or style element")
    return text


def _strip(element: ET.Element) -> None:
    for child in list(element):
        tag = child.tag.rsplit("}", 1)[-1]
        # the tooltip is driven by pygal's script (absent) and hidden by an inline style
        if (
            tag in ("script", "style", "foreignObject")
            or "tooltip" in child.get("class", "").split()
        ):
            element.remove(child)
            continue
        _strip(child)
    for name in list(element.attrib):
        local = name.rsplit("}", 1)[-1]
        value = element.attrib[name].strip().lower()
        # inline style attributes are refused by the CSP (style-src 'self'): the stylesheet styles
        if (
            local.startswith("on")
            or local == "style"
            or (local == "href" and value.startswith("javascript:"))
        ):
            del element.attrib[name]
    element.attrib.pop("id", None) if element.tag.endswith("svg") else None


@functools.cache
def stylesheet() -> str:
    """pygal's CSS for these charts, served as a same-origin stylesheet."""
    raw = _chart(["a"], [1], "style").render(is_unicode=True)
    root = ET.fromstring(raw)  # noqa: S314 - pygal's own output, made in this process
    css = "\n".join(el.text or "" for el in root.iter(f"{{{SVG}}}style"))
    # pygal scopes its rules to the chart's random id: scope them to every chart's class instead
    return css.replace(f"#{root.get('id')}", ".app-chart")
