"""One vocabulary: the front end's copy (widgets/src/vocabulary.ts) says exactly
what railtracks_nb.core.vocabulary says, and every fill reads with its text colour."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from railtracks_nb.core import vocabulary as v

TS = (Path(__file__).resolve().parents[2] / "widgets" / "src" / "vocabulary.ts").read_text()


def _ts_value(name: str):
    match = re.search(rf"export const {name}(?:: [^=]+)? = (.+?)(?: as const)?;\n", TS, re.S)
    assert match, f"{name} not found in vocabulary.ts"
    text = re.sub(r"(\w+):", r'"\1":', match.group(1).strip())  # bare keys -> JSON keys
    text = re.sub(r",(\s*[}\]])", r"\1", text)  # trailing commas
    return json.loads(text.replace('""', '"'))


@pytest.mark.parametrize(
    "name",
    [
        "LIFECYCLE_STATES", "NODE_OUTCOMES", "SESSION_OUTCOMES", "LIFECYCLE_COLOURS",
        "OUTCOME_COLOURS", "NEUTRAL_COLOUR", "TEXT_ON_FILL", "LIFECYCLE_LABEL", "OUTCOME_LABEL",
    ],
)  # fmt: skip
def test_the_front_end_says_what_python_says(name):
    expected = getattr(v, name)
    assert _ts_value(name) == (list(expected) if isinstance(expected, tuple) else expected)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(
    "fill",
    [*v.LIFECYCLE_COLOURS.values(), *v.OUTCOME_COLOURS.values(), v.NEUTRAL_COLOUR],
)
def test_text_reads_on_every_fill(fill):
    assert contrast(fill, v.TEXT_ON_FILL) >= 4.5


def test_every_state_and_outcome_has_a_colour():
    assert set(v.LIFECYCLE_COLOURS) == set(v.LIFECYCLE_STATES)
    assert set(v.NODE_OUTCOMES) | set(v.SESSION_OUTCOMES) == set(v.OUTCOME_COLOURS)


def test_outcomes_from_saved_words():
    assert v.node_outcome("Open") == "open"
    assert v.node_outcome("Completed", 3) == "completed"
    assert v.node_outcome("Failed", {"type": "ValueError"}) == "failed"
    assert v.node_outcome("Failed", {"type": "CancelledError"}) == "cancelled"
    assert v.session_outcome("Completed", 0) == "no runs"
    assert v.session_outcome("Interrupted", 2) == "interrupted"
    assert v.session_outcome(None, 1) == "open"


def test_the_stylesheet_fills_are_the_vocabulary_s():
    css = (Path(__file__).resolve().parents[2] / "widgets" / "src" / "style.css").read_text()
    for outcome in ("open", "completed", "failed", "cancelled"):
        assert f"--rt-{outcome}: {v.OUTCOME_COLOURS[outcome]};" in css
    assert f"--rt-on-fill: {v.TEXT_ON_FILL};" in css
