"""Server-side SVG charts with pygal, made safe to inline under the page's CSP.

pygal embeds a configuration <script> (and script references unless js=[]) and an inline <style>.
The page's CSP allows neither inline scripts nor inline styles, and a chart needs no script: both
elements and any event-handler attribute are removed from the parsed SVG, and the chart stylesheet
(pygal's own CSS, generated unprefixed) is served as a file from this origin.
"""

from __future__ import annotations

import functools
import sys
import textwrap
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

# An accessible palette: each colour has at least 3:1 contrast with white, and blue and vermillion
# stay apart under the common colour-vision deficiencies. Colour is never the only cue: each series
# also has its own dash pattern and marker shape (SERIES_CSS, _mark_series) and a direct label.
PALETTE = ("#1d70b8", "#d55e00", "#4c2c92", "#0b0c0c")
DASHES = ("none", "8 4", "2 3", "10 3 2 3")  # solid, dashed, dotted, dash-dot
SHAPES = ("circle", "square", "triangle", "diamond")

# GOV.UK colours; the font is the page's own.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    colors=PALETTE,
    font_family="GDS Transport, arial, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=14,
    title_font_size=16,
)


WIDTH = 720
# Text layout is estimated, not measured (no font metrics on the server): a character is taken as
# 0.6 em wide, the estimate pygal sizes its own margins with (pygal.util.text_len).
CHAR_EM = 0.6
LINE_EM = 1.25  # baseline to baseline of a wrapped label
LABEL_SHARE = 0.4  # of the chart's width, at most, for a bar chart's category labels
LABEL_LINES = 3  # a longer label is cut with "…" and keeps its full text in a <title>


def text_width(text: str, font_size: float) -> float:
    """Estimated width in px of `text` at `font_size`."""
    return len(text) * CHAR_EM * font_size


def wrap_label(label: str, font_size: float = STYLE.label_font_size) -> list[str]:
    """A category label as lines that fit the label column (at most LABEL_LINES)."""
    chars = max(1, int(WIDTH * LABEL_SHARE // (CHAR_EM * font_size)))
    return textwrap.wrap(label, chars, max_lines=LABEL_LINES, placeholder=" …") or [""]


def count_axis(values: list[int | None]) -> list[int]:
    """About five whole-number gridlines: counts have no fractions, and few ticks never crowd."""
    top = max([v for v in values if v is not None] or [0])
    step = max(1, -(-top // 5))
    return list(range(0, top + step + 1, step))


def _chart(lines: list[list[str]], values: list[int | None], title: str) -> pygal.HorizontalBar:
    font = STYLE.label_font_size
    most = max((len(label) for label in lines), default=1)
    pitch = max(44, most * LINE_EM * font + 16)  # room for the tallest wrapped label
    chart = pygal.HorizontalBar(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        show_legend=False,
        width=WIDTH,
        height=max(160, round(70 + pitch * len(lines))),
        print_values=True,
        explicit_size=False,
        include_x_axis=True,
        y_labels=count_axis(values),
        tooltip_fancy_mode=False,
        truncate_label=-1,
    )
    # pygal sizes the label margin from these: the widest line of each wrapped label
    chart.x_labels = [max(label, key=len) for label in lines]
    chart.add(title, values)
    return chart


def bar_svg(title: str, labels: list[str], values: list[int | None]) -> str:
    """A horizontal bar chart as inline SVG: no script, no style element, no event attributes.

    A value of None draws no bar (a suppressed small number); the data table beside it says why.
    No style attribute either: the page's CSP refuses inline styles. Long category labels wrap
    (wrap_label); one cut short keeps its full text in a <title>.
    """
    lines = [wrap_label(label) for label in labels]
    raw = _chart(lines, values, title).render(is_unicode=True)
    root = ET.fromstring(raw)  # noqa: S314 - pygal's own output, made in this process
    _strip(root)
    _wrap_category_labels(root, labels, lines)
    return _finish(root, title)


def _wrap_category_labels(root: ET.Element, labels: list[str], lines: list[list[str]]) -> None:
    """Write each category label as its wrapped lines, centred on its bar."""
    axis = next(g for g in root.iter(f"{{{SVG}}}g") if g.get("class", "").split() == ["axis", "y"])
    step = LINE_EM * STYLE.label_font_size
    guides = axis.findall(f"{{{SVG}}}g")
    for guide, label, wrapped in zip(guides, labels, lines, strict=True):
        text = guide.find(f"{{{SVG}}}text")
        for stale in guide.findall(f"{{{SVG}}}title"):  # pygal's holds the bar's index
            guide.remove(stale)
        if text is None:  # pragma: no cover - pygal draws one per label
            continue
        text.text = None
        for n, line in enumerate(wrapped):
            dy = -(len(wrapped) - 1) * step / 2 if n == 0 else step
            attrs = {"x": text.get("x", "-5"), "dy": f"{dy:.1f}"}
            ET.SubElement(text, f"{{{SVG}}}tspan", attrs).text = line
        if " ".join(wrapped) != " ".join(label.split()):  # cut short: the full text on hover
            ET.SubElement(text, f"{{{SVG}}}title").text = label


def _line_chart(x_labels: list[str], series: list[tuple[str, list[int | None]]]) -> pygal.Line:
    top = max([v for _, values in series for v in values if v is not None] or [0])
    step = max(1, -(-top // 5))  # about five whole-number gridlines: counts have no fractions
    chart = pygal.Line(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=720,
        height=360,
        explicit_size=False,
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        margin_right=150,  # room for the direct labels at the end of each line
        x_label_rotation=-45 if len(x_labels) > 6 else 0,  # long periods: no overlapping labels
        truncate_label=-1,
        y_labels=list(range(0, top + step + 1, step)),
        allow_interruptions=True,  # a suppressed count breaks the line rather than bridging it
        dots_size=5,
        tooltip_fancy_mode=False,
    )
    chart.x_labels = x_labels
    for title, values in series:
        chart.add(title, values)
    return chart


def line_svg(title: str, x_labels: list[str], series: list[tuple[str, list[int | None]]]) -> str:
    """A line chart of several series as inline SVG, safe as bar_svg's; at most len(PALETTE).

    Each series differs by colour, dash pattern and marker shape, and is named at its last point.
    """
    if len(series) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} series")
    raw = _line_chart(x_labels, series).render(is_unicode=True)
    root = ET.fromstring(raw)  # noqa: S314 - pygal's own output, made in this process
    _strip(root)
    _mark_series(root)
    _direct_labels(root, [name for name, _ in series])
    return _finish(root, title)


def _finish(root: ET.Element, title: str) -> str:
    own = {id(t) for text in root.iter(f"{{{SVG}}}text") for t in text.iter(f"{{{SVG}}}title")}
    for node in root.iter(f"{{{SVG}}}title"):
        if id(node) not in own:  # a label's own <title> keeps the label's full text
            node.text = title
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("focusable", "false")
    root.set("class", "app-chart pygal-chart")
    # SVG elements without a prefix, whatever another library registered since: ElementTree's
    # prefix registry is global, WeasyPrint's parser registers "svg", and a chart written as
    # <svg:svg> is no SVG element in an HTML page
    ET.register_namespace("", SVG)
    text = ET.tostring(root, encoding="unicode")
    if "<script" in text or "<style" in text or " style=" in text:  # pragma: no cover
        raise ValueError("chart still holds a script or style element")
    return text


def _series_index(element: ET.Element) -> int | None:
    for name in element.get("class", "").split():
        if name.startswith("serie-") and name[6:].isdigit():
            return int(name[6:])
    return None


def _shape(kind: str, x: float, y: float, r: float, css: str) -> ET.Element:
    """A marker of the given shape centred on (x, y)."""
    if kind == "circle":
        attrs = {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": f"{r:.1f}", "class": css}
        return ET.Element(f"{{{SVG}}}circle", attrs)
    if kind == "square":
        points = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    elif kind == "triangle":
        points = [(x, y - r * 1.2), (x + r * 1.2, y + r), (x - r * 1.2, y + r)]
    else:
        points = [(x, y - r * 1.3), (x + r * 1.3, y), (x, y + r * 1.3), (x - r * 1.3, y)]
    text = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    return ET.Element(f"{{{SVG}}}polygon", {"points": text, "class": css})


def _mark_series(root: ET.Element) -> None:
    """Series n's dots and legend swatch take SHAPES[n]: shape as well as colour tells."""
    for group in root.iter(f"{{{SVG}}}g"):
        index = _series_index(group)
        if index is None:
            continue
        for dots in group.findall(f"{{{SVG}}}g"):
            for dot in dots.findall(f"{{{SVG}}}circle"):
                x, y, r = float(dot.get("cx", 0)), float(dot.get("cy", 0)), float(dot.get("r", 4))
                marker = _shape(SHAPES[index], x, y, r, "dot app-marker")
                dots.insert(list(dots).index(dot), marker)
                dots.remove(dot)
    for legend in root.iter(f"{{{SVG}}}g"):
        if "legend" not in legend.get("class", "").split():
            continue
        swatch = legend.find(f"{{{SVG}}}rect")
        index = int(legend.get("id", "activate-serie-0").rsplit("-", 1)[-1])
        if swatch is None:
            continue
        x, y = float(swatch.get("x", 0)) + 6, float(swatch.get("y", 0)) + 6
        legend.insert(0, _shape(SHAPES[index], x, y, 5, f"color-{index} app-marker"))
        legend.remove(swatch)
        legend.attrib.pop("id", None)


def _direct_labels(root: ET.Element, names: list[str]) -> None:
    """Each series' name beside its last drawn point, nudged apart so that labels never overlap."""
    overlay = next(
        (g for g in root.iter(f"{{{SVG}}}g") if "text-overlay" in g.get("class", "").split()),
        None,
    )
    ends: list[tuple[float, float, int]] = []
    for group in root.iter(f"{{{SVG}}}g"):
        index = _series_index(group)
        if index is None or "series" not in group.get("class", "").split():
            continue
        points = [
            (float(d.get("cx") or _centre(d)[0]), float(d.get("cy") or _centre(d)[1]))
            for d in group.iter()
            if "app-marker" in d.get("class", "").split()
        ]
        if points:
            x, y = max(points)
            ends.append((y, x, index))
    if overlay is None:  # pragma: no cover - pygal always draws one
        return
    ends.sort()
    last = -1e9
    for y, x, index in ends:
        y = max(y + 5, last + 18)  # 18px apart at the least: one line of label text
        last = y
        attrs = {"x": f"{x + 12:.1f}", "y": f"{y:.1f}", "class": "app-direct-label"}
        label = ET.SubElement(overlay, f"{{{SVG}}}text", attrs)
        label.text = names[index]


def _centre(polygon: ET.Element) -> tuple[float, float]:
    points = [tuple(map(float, p.split(","))) for p in polygon.get("points", "").split()]
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


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
    # a line chart of every palette colour: its CSS holds the bar chart's rules and every colour's
    raw = _line_chart(["a"], [(str(n), [1]) for n in range(len(PALETTE))]).render(is_unicode=True)
    root = ET.fromstring(raw)  # noqa: S314 - pygal's own output, made in this process
    css = "\n".join(el.text or "" for el in root.iter(f"{{{SVG}}}style"))
    # pygal scopes its rules to the chart's random id: scope them to every chart's class instead
    return css.replace(f"#{root.get('id')}", ".app-chart") + "\n" + series_css()


def series_css() -> str:
    """Dash patterns per series, filled markers and the direct labels' text."""
    rules = [
        f".app-chart .serie-{n} .line {{ stroke-dasharray: {dash}; stroke-width: 3; }}"
        for n, dash in enumerate(DASHES)
    ]
    rules += [
        f".app-chart .serie-{n} .app-marker, .app-chart .app-marker.color-{n} {{ fill: {colour}; }}"
        for n, colour in enumerate(PALETTE)
    ]
    rules.append(".app-chart .app-direct-label { fill: #0b0c0c; font-size: 14px; }")
    return "\n".join(rules)
