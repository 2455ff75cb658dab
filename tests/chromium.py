"""Debian's Chromium, as the browser tests start it (headless, no network of its own)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Screenshots and other files the browser tests keep for people to look at.
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
