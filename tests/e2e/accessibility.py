"""The accessibility checks of the browser tests: axe-core over a page (every WCAG 2.0, 2.1
and 2.2 A and AA rule, plus label-content-name-mismatch) and the focus ring of every
element the Tab key reaches. tests/e2e/test_accessibility.py runs them over the pages.

axe-core comes inside the axe-playwright-python wheel (axe.min.js, 4.12.1): nothing is
downloaded while the tests run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": list(WCAG_TAGS)},
    # WCAG 2.5.3 Label in Name: tagged wcag21a but "experimental" in this axe, and
    # experimental rules stay off unless a run names them.
    "rules": {"label-content-name-mismatch": {"enabled": True}},
    "resultTypes": ["violations"],
}

_axe = Axe()

# The focused element, its outline and the colour behind it.
_FOCUS_PROBE = (Path(__file__).resolve().parent / "focus_probe.js").read_text()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (its whole document)."""
    return list(_axe.run(page, options=AXE_OPTIONS).response["violations"])


def axe_rules_run(page: Page) -> set[str]:
    """The ids of every rule the audit's options run (a check that the options do what
    they say: an experimental rule is easy to leave off without noticing)."""
    options = {**AXE_OPTIONS, "resultTypes": ["violations", "passes", "incomplete"]}
    response = _axe.run(page, options=options).response
    groups = ("violations", "passes", "incomplete", "inapplicable")
    return {rule["id"] for group in groups for rule in response[group]}


def violations_report(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violated rule: id, impact, help, and each offending node's
    selector with axe's summary of what is wrong there."""
    lines: list[str] = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


def _luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: list[float], second: list[float]) -> float:
    """WCAG's contrast ratio of two opaque colours (r, g, b in 0-255)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def focus_ring_problems(page: Page, *, max_stops: int = 80) -> list[str]:
    """Press Tab from the top of the page until focus comes round again (or max_stops),
    and say of each stop whose focus ring is missing, thinner than 2 px or under 3:1
    against its background what is wrong. The product draws every ring as an outline;
    the browser's own ring (outline style auto, Django admin's) passes: Chromium draws
    it dark with a white edge, visible on any background."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    problems: list[str] = []
    seen: set[int] = set()
    for _ in range(max_stops):
        page.keyboard.press("Tab")
        stop = page.evaluate(_FOCUS_PROBE)
        if stop is None:
            continue
        if stop["stop"] in seen:
            break
        seen.add(stop["stop"])
        if stop["outlineStyle"] == "auto":
            continue
        color = stop["outlineColor"]
        if stop["outlineStyle"] == "none" or stop["outlineWidth"] < 2 or color is None:
            problems.append(
                f"{stop['element']}: no focus ring (outline {stop['outlineStyle']} "
                f"{stop['outlineWidth']}px)"
            )
            continue
        behind = stop["background"][:3]
        alpha = color[3]
        ring = [c * alpha + b * (1 - alpha) for c, b in zip(color[:3], behind, strict=True)]
        ratio = contrast(ring, behind)
        if ratio < 3:
            problems.append(
                f"{stop['element']}: focus ring {ratio:.2f}:1 against its background "
                f"(rgb{tuple(round(v) for v in ring)} on rgb{tuple(round(v) for v in behind)})"
            )
    return problems
