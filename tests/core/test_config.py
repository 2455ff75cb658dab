"""ExecutorConfig validation and rt.set_config."""

from __future__ import annotations

import pytest

import railtracks_nb as rt


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"logging_setting": "LOUD"}, "logging_setting"),
        ({"end_on_error": "maybe"}, "end_on_error"),
        ({"save_state": [1]}, "save_state"),
        ({"broadcast_callback": 5}, "broadcast_callback"),
    ],
)
def test_invalid_values_name_their_field(options, field):
    with pytest.raises(rt.ConfigError, match=field):
        rt.Session(**options)
    with pytest.raises(rt.ConfigError, match=field):
        rt.set_config(**options)


def test_invalid_executor_config_names_the_field():
    with pytest.raises(ValueError, match="timeout"):
        rt.ExecutorConfig(timeout=-5)


def test_unknown_option_is_named():
    with pytest.raises(rt.ConfigError, match=r"Unknown session option.*colour"):
        rt.set_config(colour="red")


def test_logging_settings_accept_railtracks_and_standard_names():
    for setting in ["VERBOSE", "REGULAR", "QUIET", "NONE", "DEBUG", "INFO", "WARNING", "ERROR"]:
        assert rt.Session(logging_setting=setting).executor_config.logging_setting == setting
    assert rt.Session(logging_setting="quiet").executor_config.logging_setting == "QUIET"


def test_set_config_applies_to_later_sessions_and_flows():
    rt.set_config(timeout=42, save_state=False)
    assert rt.get_config() == {"timeout": 42, "save_state": False}
    assert rt.Session().executor_config.timeout == 42

    @rt.function_node
    async def f():
        from railtracks_nb.engine.scope import current_session

        return current_session().executor_config.timeout

    assert rt.Flow("f", f).invoke() == 42
    assert rt.Flow("f", f, timeout=7).invoke() == 7
    rt.set_config(save_state=None)  # None clears a value set before
    assert rt.get_config() == {"timeout": 42}


def test_timeout_none_means_no_timeout():
    """As in Railtracks 1.7: None given for timeout (to ExecutorConfig, a Session, a
    Flow or set_config) is no timeout, not "use the default"."""
    assert rt.ExecutorConfig(timeout=None).timeout is None
    assert rt.Session().executor_config.timeout == 150.0  # left out: the default
    rt.set_config(timeout=5)
    assert rt.Session(timeout=None).executor_config.timeout is None  # given wins
    assert rt.Session(rt.ExecutorConfig(timeout=None)).executor_config.timeout is None
    assert rt.Session().executor_config.timeout == 5

    @rt.function_node
    async def f():
        from railtracks_nb.engine.scope import current_session

        return current_session().executor_config.timeout

    assert rt.Flow("f", f, timeout=None).invoke() is None
    assert rt.Flow("f", f, timeout=None).update_context({"a": 1}).invoke() is None
    assert rt.Flow("f", f).update_context({"a": 1}).invoke() == 5  # not set stays not set
    rt.set_config(timeout=None)
    assert rt.get_config() == {"timeout": None}
    assert rt.Session().executor_config.timeout is None
    assert rt.Flow("f", f).invoke() is None
    rt.set_config(end_on_error=True)  # setting another option keeps it
    assert rt.Session().executor_config.timeout is None
    rt.reset_config()
    assert rt.Session().executor_config.timeout == 150.0
    with pytest.raises(rt.ConfigError, match="timeout"):
        rt.Session(timeout=0)


def test_flow_rejects_bad_options_at_construction():
    @rt.function_node
    async def f():
        return 1

    with pytest.raises(rt.ConfigError, match="timeout"):
        rt.Flow("f", f, timeout=-1)
    with pytest.raises(TypeError, match="non-empty str"):
        rt.Flow("", f)
    with pytest.raises(rt.NodeCreationError):
        rt.Flow("f", 123)


def test_subscriber_alias():
    cfg = rt.ExecutorConfig(subscriber=print)
    assert cfg.broadcast_callback is print and cfg.subscriber is print


def test_auto_display_is_a_notebook_option_of_set_config():
    from railtracks_nb.core.config import notebook_config

    assert notebook_config().auto_display is True
    rt.set_config(auto_display=False, timeout=9)
    assert rt.get_config() == {"timeout": 9, "auto_display": False}
    assert notebook_config().auto_display is False
    assert rt.Session().executor_config.timeout == 9  # sessions are unaffected otherwise
    with pytest.raises(rt.ConfigError, match="auto_display"):
        rt.set_config(auto_display="sometimes")
    assert notebook_config().auto_display is False  # a rejected call changes nothing
    rt.set_config(auto_display=None)
    assert notebook_config().auto_display is True
    with pytest.raises(TypeError, match="auto_display"):
        rt.Session(auto_display=False)  # not a Session option
