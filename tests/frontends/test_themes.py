"""Readable on the front ends' light and dark themes: every piece of text of the
static picture (a session's rich display) and of the dashboard widget has a
contrast of at least 4.5:1 against the background it is drawn on, measured in
the browser from the computed colours."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.frontends.conftest import artifact
from tests.frontends.jupyter import make_notebook

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "reference"
MIN_CONTRAST = 4.5

CELLS = [
    "%load_ext railtracks_nb\n"
    "import railtracks_nb as rt\n"
    "sample = rt.load('railtracks_saved_session_sample.json')\n"
    "sample",
    "rt.show(sample)",
]

# For each visible text node under `selector` (SVG aside: its text sits on the box
# fills the vocabulary test checks), the contrast of its colour against the first
# opaque background behind it.
_CONTRASTS_JS = """(selector) => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map((x) => parseFloat(x));
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const out = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const text = walker.currentNode;
      const el = text.parentElement;
      if (!text.textContent.trim() || el.closest('svg')) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || el.getClientRects().length === 0) continue;
      const a = lum(parse(style.color)), b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      out.push([text.textContent.trim().slice(0, 40), Math.round(ratio * 100) / 100]);
    }
  }
  return out;
}"""


def _check_contrast(server, open_notebook, theme: str) -> None:
    shutil.copy(SAMPLE / "railtracks_saved_session_sample.json", server.root)
    make_notebook(server.root, f"theme-{theme}.ipynb", CELLS)
    nb = open_notebook(server, f"theme-{theme}.ipynb")
    # The front end really shows the theme asked for (JupyterLab marks the page).
    light = nb.page.evaluate("() => document.body.dataset.jpThemeLight")
    assert light == ("true" if theme == "light" else "false")
    nb.run_all()
    nb.wait_all_executed(timeout=90)
    nb.page.wait_for_selector(".jp-Notebook .railtracks-nb-session")
    nb.page.wait_for_selector(".jp-Notebook .rt-state[data-total]")
    nb.screenshot(artifact(server, f"theme-{theme}.png"))
    for selector in (".jp-Notebook .railtracks-nb-session", ".jp-Notebook .rt-root"):
        contrasts = nb.page.evaluate(_CONTRASTS_JS, selector)
        assert len(contrasts) > 10, f"no text found under {selector}"
        low = [c for c in contrasts if c[1] < MIN_CONTRAST]
        assert low == [], f"{theme} theme, {selector}: text below {MIN_CONTRAST}:1: {low}"


@pytest.mark.parametrize("theme", ["light"])
def test_text_is_readable_on_the_light_theme(server, open_notebook, theme):
    _check_contrast(server, open_notebook, theme)


@pytest.mark.parametrize("theme", ["dark"])
def test_text_is_readable_on_the_dark_theme(dark_server, open_notebook, theme):
    _check_contrast(dark_server, open_notebook, theme)
