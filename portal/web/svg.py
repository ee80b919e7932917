"""Server-rendered SVG bar charts: no chart JavaScript, no inline styles (CSP), legible in print."""

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

#: fallback fills (the stylesheet's classes win); blue and orange stay apart for colour-blind readers
PALETTE = ("#0b5e8a", "#c2410c", "#17663a", "#6b21a8")


@dataclass(frozen=True)
class Series:
    """One coloured set of bars; None is "no data" (drawn as a dash)."""

    name: str
    values: list[float | None]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above `value` (at least 1), for round axis ticks."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _number(value: float, percent: bool) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".") if percent else f"{value:g}"
    return text + ("%" if percent else "")


def bar_chart(*, chart_id: str, title: str, labels: list[str], series: list[Series], percent: bool = False,
              width: int = 560, height: int = 230) -> Markup:
    """Grouped vertical bars, one group per label, each bar captioned with its value."""
    left, right, top, bottom = 48, 8, 34, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    # whole-number ticks for counts (a step of 1, 2, 5, 10 ...), quarters for percentages
    step = 25 if percent else nice_ceiling(max(values, default=0) / 4)
    ticks = 4 if percent else max(1, math.ceil(max(values, default=0) / step))
    top_value = step * ticks
    group_w = plot_w / max(len(labels), 1)
    bar_w = group_w * 0.72 / max(len(series), 1)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(_describe(labels, series, percent))}</desc>',
    ]
    for tick in range(ticks + 1):
        value = step * tick
        parts.append(f'<line class="chart-grid" x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="#d9e2ec"/>')
        parts.append(f'<text class="chart-tick" x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'font-size="13">{escape(_number(value, percent))}</text>')
    for index, name in enumerate(s.name for s in series):
        x = left + index * 110
        parts.append(f'<rect class="chart-key series-{index}" x="{x}" y="8" width="14" height="14" '
                     f'fill="{PALETTE[index % len(PALETTE)]}"/>')
        parts.append(f'<text class="chart-legend" x="{x + 20}" y="20" font-size="14">{escape(name)}</text>')
    for group, label in enumerate(labels):
        x0 = left + group * group_w + group_w * 0.14
        for index, item in enumerate(series):
            value = item.values[group]
            x = x0 + index * bar_w
            caption = "—" if value is None else _number(value, percent)
            if value is not None:
                parts.append(f'<rect class="chart-bar series-{index}" x="{x:.1f}" y="{y(value):.1f}" '
                             f'width="{bar_w - 1:.1f}" height="{plot_h * value / top_value:.1f}" '
                             f'fill="{PALETTE[index % len(PALETTE)]}"><title>{escape(item.name)} {escape(label)}：'
                             f'{escape(caption)}</title></rect>')
            parts.append(f'<text class="chart-value" x="{x + bar_w / 2:.1f}" '
                         f'y="{y(value or 0) - 4:.1f}" text-anchor="middle" font-size="12">{escape(caption)}</text>')
        parts.append(f'<text class="chart-label" x="{left + (group + 0.5) * group_w:.1f}" y="{height - 12}" '
                     f'text-anchor="middle" font-size="13">{escape(label)}</text>')
    parts.append(f'<line class="chart-axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                 f'y2="{top + plot_h}" stroke="#52606d"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _describe(labels: list[str], series: list[Series], percent: bool) -> str:
    """The chart's numbers as one sentence, for screen readers."""
    return "；".join(
        f"{label}：" + "，".join(f"{s.name} {'无数据' if s.values[i] is None else _number(s.values[i], percent)}"
                                for s in series)
        for i, label in enumerate(labels))
