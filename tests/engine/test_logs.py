"""Logging: RT.* loggers, per-session settings, log files."""

from __future__ import annotations

import asyncio
import logging

import railtracks_nb as rt


@rt.function_node
async def boom():
    raise ValueError("kaput")


@rt.function_node
async def ok():
    return 1


def test_loggers_live_under_RT():
    with rt.Session(save_state=False, logging_setting="VERBOSE"):
        rt.call_sync(ok)
    assert logging.getLogger("RT.Session").parent is logging.getLogger("RT")


def test_verbose_logs_node_events_and_quiet_hides_warnings_below(capfd):
    with rt.Session(save_state=False, logging_setting="VERBOSE"):
        rt.call_sync(ok)
    assert "RT.Session : DEBUG - START CREATED ok" in capfd.readouterr().err
    with rt.Session(save_state=False, logging_setting="ERROR"):
        try:
            rt.call_sync(boom)
        except ValueError:
            pass
    assert "kaput" not in capfd.readouterr().err  # the node failure is a WARNING


def test_none_silences_everything(capfd):
    with rt.Session(save_state=False, logging_setting="NONE", timeout=0.05):
        try:
            rt.call_sync(boom)
        except ValueError:
            pass
    assert capfd.readouterr().err == ""


def test_log_file_gets_only_its_sessions_records(tmp_path):
    log = tmp_path / "run.log"

    async def main():
        async def quiet_other():
            async with rt.Session(save_state=False, logging_setting="VERBOSE", name="other"):
                await rt.call(ok)

        async with rt.Session(save_state=False, logging_setting="VERBOSE", log_file=log):
            await asyncio.gather(rt.call(ok), quiet_other())

    asyncio.run(main())
    text = log.read_text()
    assert text.count("START CREATED ok") == 1
    assert "RT.Session : DEBUG" in text
    assert not [h for h in logging.getLogger("RT").handlers if isinstance(h, logging.FileHandler)]
