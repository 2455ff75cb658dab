"""The synthetic sessions the browser tests and benchmarks draw."""

from __future__ import annotations

import pytest

from railtracks_nb.execution._synthetic import synthetic_payload


def test_names_per_level_make_same_named_siblings_with_telling_arguments():
    payload = synthetic_payload((2, 3), names=("crawl_all", "crawl", "fetch"))
    run = payload["runs"][0]
    names = sorted(n["name"] for n in run["nodes"])
    assert names == ["crawl", "crawl"] + ["crawl_all"] + ["fetch"] * 6
    args = {e["details"]["input_args"][0] for e in run["edges"]}
    assert len(args) == 9 and "fetch 2" in args and "crawl 1" in args


def test_names_must_cover_every_level():
    with pytest.raises(ValueError, match="one name per level"):
        synthetic_payload((2, 3), names=("crawl_all", "crawl"))
