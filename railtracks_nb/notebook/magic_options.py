"""The options of ``%%rt_session``: split from the magic's line, decoded (literals,
notebook variables, on/off words) and validated into ``Session`` arguments, with an
error that names the option for anything wrong."""

from __future__ import annotations

import ast
import io
import keyword
import os
import re
import tokenize
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from IPython.core.error import UsageError
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..core.exceptions import ConfigError

if TYPE_CHECKING:

    pass


__all__ = ["DEFAULT_VAR", "OPTIONS", "MagicOptions", "parse_options", "split_options"]

#: The variable the cell's Session is bound to unless ``var=`` says otherwise.
DEFAULT_VAR = "rt_session"

#: Options passed to ``Session`` as they are (validated by ``ExecutorConfig``).
_CONFIG_OPTIONS: tuple[str, ...] = (
    "timeout",
    "end_on_error",
    "logging_setting",
    "log_file",
    "run_identifier",
    "prompt_injection",
    "save_state",
)
#: Options whose value is always text: a bare word, or a quoted string literal.
_TEXT_OPTIONS = frozenset(
    {"name", "logging_setting", "log_file", "run_identifier", "var", "dashboard"}
)
OPTIONS: tuple[str, ...] = (
    *_CONFIG_OPTIONS,
    "name",
    "context",
    "broadcast_callback",
    "dashboard",
    "var",
)

_ON = frozenset({"on", "true", "yes", "1"})
_OFF = frozenset({"off", "false", "no", "0"})


class MagicOptions(BaseModel):
    """The options of ``%%rt_session`` that are not Session options."""

    model_config = ConfigDict(extra="forbid")

    dashboard: Literal["on", "off", "auto"] = "auto"
    var: str = DEFAULT_VAR

    @field_validator("dashboard", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        text = str(value).strip().lower()
        if text in _ON:
            return "on"
        if text in _OFF:
            return "off"
        return text

    @field_validator("var")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier() or keyword.iskeyword(value):
            raise ValueError(f"{value!r} is not a valid Python variable name")
        return value


def split_options(line: str) -> list[tuple[str, str]]:
    """Split an option line into ``(key, raw value)`` pairs, in order.

    Options are ``key=value`` words separated by spaces. The line is read with
    Python's own tokenizer rather than ``shlex``, because a value may be a
    Python literal with spaces inside brackets or quotes
    (``context={"user": "x"}``, ``name="my demo"``), which shell-style
    splitting would cut apart or unquote. A word that is not ``key=value``,
    an unterminated quote or bracket, or a ``#`` outside quotes raises
    :class:`UsageError` that quotes the offending text.
    """
    quote = _unterminated_quote(line)
    if quote is not None:
        raise UsageError(
            f"%%rt_session: {_option_before(line, quote)}malformed value "
            f"{line[quote:].strip()!r}: unterminated quote."
        )
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except tokenize.TokenError:
        raise UsageError(
            f"%%rt_session: malformed options {line.strip()!r}: an opening bracket or "
            "triple quote is never closed."
        ) from None
    except (SyntaxError, ValueError) as exc:  # e.g. an unterminated string on 3.12+
        raise UsageError(f"%%rt_session: malformed options {line.strip()!r}: {exc}") from None

    words: list[list[tokenize.TokenInfo]] = []
    depth = 0
    last_end = -1
    for tok in tokens:
        if tok.type in (
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.ENDMARKER,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            continue
        if tok.type == tokenize.COMMENT:
            raise UsageError(
                f"%%rt_session: malformed option near {tok.string!r}: '#' would start a comment; "
                "quote a value that contains '#'."
            )
        if tok.type == tokenize.ERRORTOKEN and tok.string.strip() in ("'", '"'):
            raise UsageError(
                f"%%rt_session: {_option_before(line, tok.start[1])}malformed value "
                f"{line[tok.start[1] :].strip()!r}: unterminated quote."
            )
        if tok.type == tokenize.ERRORTOKEN and not tok.string.strip():
            continue  # stray whitespace the tokenizer could not place
        start, end = tok.start[1], tok.end[1]
        if depth == 0 and start > last_end:
            words.append([])  # whitespace outside brackets: a new word begins
        words[-1].append(tok)
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth = max(0, depth - 1)
        last_end = end

    pairs: list[tuple[str, str]] = []
    for word in words:
        text = line[word[0].start[1] : word[-1].end[1]]
        if len(word) < 2 or word[0].type != tokenize.NAME or word[1].string != "=":
            hint = " (write key=value, with no spaces around '=')" if "=" in line else ""
            raise UsageError(f"%%rt_session: malformed option {text!r}: expected key=value{hint}.")
        key = word[0].string
        if word[1].start[1] != word[0].end[1]:
            raise UsageError(f"%%rt_session: malformed option {text!r}: no spaces around '='.")
        if len(word) == 2:
            raise UsageError(f"%%rt_session: option {key!r} has no value: write {key}=<value>.")
        pairs.append((key, line[word[2].start[1] : word[-1].end[1]]))
    return pairs


def _unterminated_quote(line: str) -> int | None:
    """Where a quote that is never closed opens in ``line`` (outside other quotes), if any.

    Python's tokenizer reports it differently from one version to the next
    (an error token, or a ``SyntaxError`` with no position): scan for it here.
    """
    opened: int | None = None
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if opened is None:
            if ch in "'\"":
                triple = line[i : i + 3] == ch * 3
                opened, quote = i, ch * 3 if triple else ch
                i += len(quote)
                continue
        elif ch == "\\":
            i += 2
            continue
        elif line.startswith(quote, i):
            opened = None
            i += len(quote)
            continue
        i += 1
    return opened


def _option_before(line: str, position: int) -> str:
    """``"option 'name': "`` for the ``key=`` that the text at ``position`` belongs to."""
    match = re.search(r"([A-Za-z_]\w*)=[^\s=]*$", line[:position])
    return f"option {match.group(1)!r}: " if match else ""


def _literal(raw: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _decode(key: str, raw: str, namespace: Mapping[str, Any]) -> Any:
    """One option's value: a Python literal, a quoted or bare word, or a notebook variable."""
    ok, value = _literal(raw)
    if key in _TEXT_OPTIONS:
        return value if ok and isinstance(value, str) else raw
    if key == "context":
        if ok and (value is None or isinstance(value, Mapping)):
            return value
        if raw.isidentifier() and raw in namespace and isinstance(namespace[raw], Mapping):
            return namespace[raw]
        raise UsageError(
            f"%%rt_session: option 'context' must be a dict literal such as "
            f'context={{"user": "x"}} or the name of a dict variable, got {raw!r}.'
        )
    if key == "broadcast_callback":
        if raw.isidentifier() and callable(namespace.get(raw)):
            return namespace[raw]
        raise UsageError(
            f"%%rt_session: option 'broadcast_callback' must name a callable defined in the "
            f"notebook, got {raw!r}."
        )
    return value if ok else raw  # let pydantic coerce bare words (true, inf, ...) or reject them


def parse_options(
    line: str, namespace: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], MagicOptions]:
    """Parse and validate a ``%%rt_session`` option line.

    Returns the keyword arguments for :class:`Session` (only the options
    given, so ``rt.set_config`` values still apply to the rest) and the
    magic's own options. Anything wrong raises :class:`UsageError` that
    names the option: an unknown or repeated key, a malformed word, or a
    value :class:`~railtracks_nb.core.config.ExecutorConfig` rejects.
    """
    namespace = namespace if namespace is not None else {}
    seen: set[str] = set()
    session_kwargs: dict[str, Any] = {}
    magic_kwargs: dict[str, Any] = {}
    for key, raw in split_options(line):
        if key not in OPTIONS:
            raise UsageError(
                f"%%rt_session: unknown option {key!r}; valid options are {', '.join(OPTIONS)}."
            )
        if key in seen:
            raise UsageError(f"%%rt_session: option {key!r} is given twice.")
        seen.add(key)
        value = _decode(key, raw, namespace)
        if key in ("dashboard", "var"):
            magic_kwargs[key] = value
        else:
            session_kwargs[key] = value

    try:
        magic = MagicOptions(**magic_kwargs)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise UsageError(
            f"%%rt_session: invalid option {field}={first.get('input')!r}: {first['msg']}."
        ) from None

    from ..core.config import make_config

    config_values = {k: v for k, v in session_kwargs.items() if k in _CONFIG_OPTIONS}
    try:
        config = make_config(**config_values)  # names the field of a bad value
    except ConfigError as exc:
        raise UsageError(f"%%rt_session: {exc}") from None
    # Hand Session the validated values (e.g. "30" -> 30.0, "quiet" -> "QUIET").
    for key in config_values:
        session_kwargs[key] = getattr(config, key)
    name = session_kwargs.get("name")
    if name is not None and not name.strip():
        raise UsageError("%%rt_session: option 'name' must not be empty.")
    if session_kwargs.get("log_file") is not None:
        _check_log_file(session_kwargs["log_file"])
    return session_kwargs, magic


def _check_log_file(log_file: Any) -> None:
    """A ``log_file`` the session could not open is an error now, before the cell runs."""
    path = Path(os.fspath(log_file)).expanduser()
    folder = path.parent
    problem = None
    if path.is_dir():
        problem = "it is a folder"
    elif not folder.is_dir():
        problem = f"the folder {str(folder)!r} does not exist"
    elif path.exists() and not os.access(path, os.W_OK):
        problem = "the file is not writable"
    elif not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        problem = f"the folder {str(folder)!r} is not writable"
    if problem:
        raise UsageError(f"%%rt_session: option 'log_file'={str(log_file)!r}: {problem}.")


