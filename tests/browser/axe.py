"""Accessibility checks: axe-core (installed from the npm registry into
tests/browser/node_modules by ./scripts/test, pinned by package-lock.json) run inside a
page as it is shown, failing on any serious or critical violation.

axe is evaluated through the DevTools protocol, not added as a <script>: the pages'
Content-Security-Policy (our own static files only) stays exactly as production sends it,
so axe sees what a user's browser shows.
"""

import json
from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")


@cache
def axe_source() -> str:
    if not AXE.is_file():
        raise AssertionError(
            f"axe-core is not installed ({AXE} is missing): run ./scripts/test, or "
            "npm ci --prefix tests/browser"
        )
    return AXE.read_text()


def violations(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on the page, most severe first."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = [v for v in results["violations"] if v["impact"] in BLOCKING]
    return sorted(found, key=lambda v: (BLOCKING.index(v["impact"]), v["id"]))


def describe(found: list[dict]) -> str:
    """One paragraph per violation: its rule, what it means, and each element it found."""
    lines = []
    for violation in found:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(json.dumps(t) for t in node['target'])}: {node['html']}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"        {line.strip()}" for line in summary.splitlines() if line.strip())
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail, listing them, if axe-core finds a serious or critical violation on `page`."""
    found = violations(page)
    assert not found, (
        f"axe-core found {len(found)} serious or critical violation(s) on {page.url}:\n"
        + describe(found)
    )
