"""The ``%%rt_session`` cell magic: a notebook cell that runs inside a Session.

Load it with ``%load_ext railtracks_nb``, then::

    %%rt_session timeout=30 name=demo save_state=False context={"user": "x"}
    answer = await rt.call(agent, "hello")
    answer

How the body runs
-----------------
A cell magic is called synchronously, yet its body may use top-level
``await`` and must run on the kernel's own event loop (so live widgets
subscribed there see every message). So the extension also registers an
input transformer: a cell starting with ``%%rt_session`` becomes one
``await`` of :meth:`RailtracksMagics.run_async`, and IPython runs it as it
runs any cell with a top-level ``await`` (its autoawait): awaited on the
kernel's running loop, the loop never re-entered. The kernel meanwhile keeps
receiving messages and handles them as it does during any awaited cell: the
next cell of Run All and completions after this one, in order; ipykernel 7
also answers widget (comm) messages while the cell runs. (Re-entering the
running loop from a synchronous magic, as ``nest_asyncio`` does, made
ipykernel 7 lose the queued cells: "cannot enter context ... is already
entered".) In a terminal IPython the cell is awaited on IPython's own loop.
With ``%autoawait off``, another async runner, under another cell magic
(``%%time``, ``%%capture``) or in a direct ``run_cell_magic`` call, the
magic itself drives the body with :func:`railtracks_nb.engine._sync.run_in_loop`
instead (re-entering a running loop with ``nest_asyncio2``).

Either way the body is compiled with ``PyCF_ALLOW_TOP_LEVEL_AWAIT`` against
the user namespace (names it assigns stay defined) and wrapped in
``async with session:``. The value of its last expression is the cell's
``Out[n]`` and ``_``; a trailing ``;`` silences it as usual. The body is
compiled under the cell's own file name with its lines at their place in the
cell, so tracebacks and the debugger point at the line the user wrote.

Interrupts
----------
While the body runs, SIGINT (the notebook's stop button) cancels the body's
task instead of raising ``KeyboardInterrupt`` at a random bytecode: every
running node is cancelled, the session closes, its state is saved marked
``Interrupted`` (when ``save_state`` is on), and the cell ends with
``KeyboardInterrupt``. The kernel is ready for the next cell. A body (or an
async node) stuck in blocking sync code is interrupted right there, as
Python would, without the interrupt ever reaching the kernel's own tasks
(see :func:`railtracks_nb.engine._sync.drive`).
"""

from __future__ import annotations

import ast
import inspect
import io
import keyword
import os
import re
import sys
import tokenize
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    cell_magic,
    magics_class,
    no_var_expand,
    output_can_be_silenced,
)
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..core.exceptions import ConfigError
from ..engine import logs
from ..engine._sync import drive, run_in_loop
from ..engine.session import Session

if TYPE_CHECKING:
    from types import CodeType

    from IPython.core.interactiveshell import InteractiveShell

__all__ = [
    "DEFAULT_VAR",
    "MagicOptions",
    "RailtracksMagics",
    "load_ipython_extension",
    "parse_options",
    "split_options",
    "unload_ipython_extension",
]

logger = logs.get_logger("Notebook")

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
#: Options whose value may name a variable of the notebook.
_VARIABLE_OPTIONS = frozenset({"context", "broadcast_callback"})
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


# -- compiling the body ------------------------------------------------------------
def _raw_cell(shell: InteractiveShell, line: str, cell: str) -> str:
    """The cell as the user typed it (for tracebacks), from history when it matches."""
    try:
        raw = shell.history_manager.input_hist_raw[-1]  # type: ignore[union-attr]
    except (AttributeError, IndexError):  # no history manager, or an empty history
        raw = ""
    if raw.endswith(cell) and "%%rt_session" in raw[: len(raw) - len(cell)]:
        return raw
    return f"%%rt_session {line}\n{cell}"


def _cell_number(shell: InteractiveShell) -> int:
    """The execution count of the running cell (``In[n]``), as IPython named its code.

    IPython versions differ on whether ``execution_count`` is incremented before
    or after a cell runs, so it is read from the calling cell's code file name.
    """
    names = getattr(shell.compile, "_filename_map", {})
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        number = names.get(frame.f_code.co_filename)
        if number is not None:
            return number
        frame = frame.f_back
    return shell.execution_count


def _compile_body(
    shell: InteractiveShell, line: str, cell: str
) -> tuple[CodeType | None, CodeType | None]:
    """Compile the body: statements (``exec``) and, separately, a last expression (``eval``).

    IPython syntax in the body (``!cmd``, ``%magic``) is transformed as in
    any cell. Lines keep their numbers within the cell, and the code is
    registered under the cell's file name, so tracebacks show the user's line.
    """
    raw = _raw_cell(shell, line, cell)
    head_lines = raw[: len(raw) - len(cell)].count("\n")
    body_lines = cell.splitlines(keepends=True)
    blank = 0
    for text in body_lines:  # IPython's transform drops leading blank lines: count them back
        if text.strip():
            break
        blank += 1
    body = "".join(body_lines[blank:])
    if not body.strip():
        return None, None
    transformed = shell.transform_cell(body)
    source = "\n" * (head_lines + blank) + transformed
    filename = shell.compile.cache(raw, _cell_number(shell), raw_code=raw)
    tree = shell.compile.ast_parse(source, filename=filename)
    tree = shell.transform_ast(tree)
    flags = shell.compile.flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    statements, last = tree.body, None
    if statements and isinstance(statements[-1], ast.Expr):
        statements, last = statements[:-1], statements[-1]
    exec_code = None
    if statements:
        module = ast.Module(body=statements, type_ignores=[])
        exec_code = compile(module, filename, "exec", flags=flags, dont_inherit=True)
    eval_code = None
    if last is not None:
        expression = ast.Expression(body=last.value)
        eval_code = compile(expression, filename, "eval", flags=flags, dont_inherit=True)
    return exec_code, eval_code


def _is_async(code: CodeType) -> bool:
    return bool(code.co_flags & inspect.CO_COROUTINE)


async def _evaluate(code: CodeType | None, shell: InteractiveShell) -> Any:
    if code is None:
        return None
    result = eval(code, shell.user_global_ns, shell.user_ns)
    if _is_async(code):
        result = await result
    return result


def _user_traceback(error: BaseException, filename_codes: tuple[CodeType | None, ...]) -> Any:
    """``error``'s traceback from the user's first frame on, or the whole one if none."""
    wanted = {c.co_filename for c in filename_codes if c is not None}
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in wanted:
            return tb
        tb = tb.tb_next
    return error.__traceback__


# -- the dashboard ------------------------------------------------------------------------
def _show_dashboard(session: Session, mode: str, shell: InteractiveShell) -> Any:
    """Display the live dashboard for ``session`` when asked and possible.

    ``auto`` shows it only in a kernel (a front end that can render widgets)
    and only while ``rt.set_config(auto_display=...)`` is on (the default).
    A dashboard that fails to build is logged: it never stops the cell.
    Returns the widget and its display handle (to refresh the static picture
    at the end), or None.
    """
    from ..core.config import notebook_config

    if mode == "off":
        return None
    if mode == "auto" and (
        getattr(shell, "kernel", None) is None or not notebook_config().auto_display
    ):
        return None
    try:
        from .widgets import show
    except ImportError as exc:
        logger.warning("The live dashboard is not available (%s)", exc)
        return None
    try:
        from IPython.display import display

        widget = show(session)
        return widget, display(widget, display_id=True)
    except Exception:
        logger.warning("Could not show the live dashboard", exc_info=True)
        return None


def _refresh_dashboard(shown: Any) -> None:
    """Redisplay the finished dashboard, so the static picture saved with the
    notebook (for viewers without a kernel) shows the final state, not the first."""
    if shown is None:
        return
    widget, handle = shown
    try:
        handle.update(widget)
    except Exception:
        logger.debug("Could not refresh the dashboard's static picture", exc_info=True)


class _CellRun:
    """One ``%%rt_session`` cell: its options, session, compiled body and dashboard.

    Building it parses the options and compiles the body (a malformed option
    or a syntax error raises before anything runs), creates the session, binds
    it to its variable and shows the dashboard. How :meth:`body` is then driven
    (awaited by IPython, or from the sync magic) is the caller's choice.
    """

    def __init__(self, shell: InteractiveShell, line: str, cell: str) -> None:
        session_kwargs, options = parse_options(line, shell.user_ns)
        self.shell = shell
        self.codes = _compile_body(shell, line, cell)
        try:
            self.session = Session(**session_kwargs)
        except (ConfigError, TypeError, ValueError) as exc:
            raise UsageError(f"%%rt_session: {exc}") from None
        shell.user_ns[options.var] = self.session
        self.dashboard = _show_dashboard(self.session, options.dashboard, shell)

    async def body(self) -> Any:
        exec_code, eval_code = self.codes
        async with self.session:
            await _evaluate(exec_code, self.shell)
            return await _evaluate(eval_code, self.shell)

    def user_error(self, error: BaseException) -> BaseException:
        """What the cell raises for ``error``: the same exception with its traceback
        starting at the user's line (not in asyncio internals), or, for an interrupt
        that ended the session, a ``KeyboardInterrupt`` saying what happened to it."""
        session = self.session
        if isinstance(error, KeyboardInterrupt):
            if not session._interrupted:
                return error
            interrupt = KeyboardInterrupt(_interrupt_message(session))
            interrupt.__suppress_context__ = True
            return interrupt
        if isinstance(error, Exception):
            return error.with_traceback(_user_traceback(error, self.codes))
        return error

    def finish(self) -> None:
        _refresh_dashboard(self.dashboard)


# -- awaiting the cell natively ------------------------------------------------------
_MAGIC_LINE = re.compile(r"%%rt_session(?:[ \t]|$)")


def _awaits_natively(shell: InteractiveShell) -> bool:
    """Whether IPython awaits a top-level ``await`` cell on asyncio (its default):
    not with ``%autoawait off`` nor with another runner (``%autoawait trio``)."""
    from IPython.core.interactiveshell import _asyncio_runner

    return bool(getattr(shell, "autoawait", False)) and shell.loop_runner is _asyncio_runner


def _inside_a_running_cell(shell: InteractiveShell) -> bool:
    """Whether a cell is executing: then the transform is another magic's (``%%time``,
    ``%%capture``) on its own body, which that magic runs synchronously, not awaited."""
    trap = getattr(shell, "display_trap", None)
    active = getattr(trap, "is_active", None)  # IPython 9
    if active is None:
        active = getattr(trap, "_nested_level", 0) != 0
    return bool(active)


def _native_cell_transform(shell: InteractiveShell) -> Any:
    """An input transformer that turns a ``%%rt_session`` cell into one ``await``.

    ``%%rt_session opts`` + body becomes
    ``await get_ipython().magics_manager.registry['RailtracksMagics'].run_async('opts', 'body')``,
    so IPython runs the cell as it runs any cell with a top-level ``await``:
    awaited on the kernel's running loop (in a terminal, on IPython's own loop),
    with no loop re-entry. A body ending in ``;`` keeps the ``;``, so the
    result is silenced as usual. With ``%autoawait off``, a non-asyncio
    runner, or inside another cell magic (``%%time``) the cell is left alone
    and the sync magic runs it.
    """

    def transform(lines: list[str]) -> list[str]:
        if not lines or not _MAGIC_LINE.match(lines[0]):
            return lines
        if not _awaits_natively(shell) or _inside_a_running_cell(shell):
            return lines
        line = lines[0][len("%%rt_session") :].strip()
        body = "".join(lines[1:])
        silenced = ";" if body.strip() and _ends_with_semicolon(body) else ""
        registry = RailtracksMagics.__name__
        return [
            f"await get_ipython().magics_manager.registry[{registry!r}]"
            f".run_async({line!r}, {body!r}){silenced}\n"
        ]

    transform.railtracks_nb = True  # type: ignore[attr-defined]  # found again by unload
    return transform


def _ends_with_semicolon(body: str) -> bool:
    from IPython.core.displayhook import DisplayHook

    try:
        return bool(DisplayHook.semicolon_at_end_of_expression(body))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return False  # the body's own syntax error is reported when it is compiled


@magics_class
class RailtracksMagics(Magics):
    """``%%rt_session``: run a cell inside a railtracks_nb Session."""

    @no_var_expand  # `{...}` in context={...} is a dict literal, not IPython variable expansion
    @output_can_be_silenced
    @cell_magic
    def rt_session(self, line: str, cell: str) -> Any:
        """Run the cell inside an ``rt.Session``, on the kernel's own event loop.

        ::

            %%rt_session [key=value ...]

        Session options (as ``rt.Session`` takes them; left out: ``rt.set_config``
        values, then the defaults)::

            timeout=30            seconds each top-level rt.call may take
            name=demo             session name (also the saved file's name)
            save_state=False      write .railtracks/<name>.json on exit
            end_on_error=True     end a run at its first node failure
            logging_setting=QUIET VERBOSE, REGULAR, QUIET, NONE, DEBUG, INFO, ...
            log_file=run.log      also write logs to this file
            context={"user": "x"} context variables (a dict literal or a dict variable)
            broadcast_callback=f  a callable of the notebook that gets rt.broadcast messages
            run_identifier=abc    the session identifier
            prompt_injection=False

        Notebook options::

            dashboard=auto|on|off show the live dashboard (auto: when running in a kernel)
            var=rt_session        the variable the Session is bound to

        Values are Python literals or bare words; quote a value with spaces
        (``name="my demo"``). Top-level ``await`` works in the body, names it
        assigns stay defined, and its last expression is the cell's result.
        A malformed option raises ``UsageError`` and the body does not run.
        Interrupting the kernel cancels the running nodes, closes the session,
        saves it marked ``Interrupted`` and leaves the kernel ready.
        """
        # Reached when the cell was not awaited natively (``%autoawait off``, another
        # runner, or a direct ``run_cell_magic`` call): drive the body from here.
        __tracebackhide__ = True  # IPython hides this frame: the user's frames are what matter
        shell = self.shell
        assert shell is not None
        cell_run = _CellRun(shell, line, cell)
        from IPython.core.async_helpers import get_asyncio_loop

        # The kernel's running loop in ipykernel; IPython's own loop in a terminal.
        loop = get_asyncio_loop()
        try:
            return run_in_loop(loop, cell_run.body())
        except BaseException as error:
            raise cell_run.user_error(error)  # noqa: B904  (the same exception, or the interrupt)
        finally:
            cell_run.finish()

    async def run_async(self, line: str, cell: str) -> Any:
        """Run a ``%%rt_session`` cell awaited by IPython (what the cell is transformed into)."""
        __tracebackhide__ = True
        shell = self.shell
        assert shell is not None
        cell_run = _CellRun(shell, line, cell)
        try:
            return await drive(cell_run.body())
        except BaseException as error:
            raise cell_run.user_error(error)  # noqa: B904  (the same exception, or the interrupt)
        finally:
            cell_run.finish()


def _remove_transform(ipython: Any) -> None:
    transforms = ipython.input_transformers_cleanup
    transforms[:] = [t for t in transforms if not getattr(t, "railtracks_nb", False)]


def _interrupt_message(session: Session) -> str:
    """What the cell says after an interrupt: what was stopped, and what was not."""
    label = session.name or session.identifier
    stubborn = session.stubborn_nodes
    if stubborn:
        names = ", ".join(repr(n) for n in stubborn)
        nodes = (
            f"node(s) {names} ignored the cancellation and are still running in the "
            "background (their results will be dropped); the session was closed"
        )
    else:
        nodes = "its running nodes were cancelled and it was closed"
    where = f"; its state was saved to {session.saved_path}" if session.saved_path else ""
    return f"Session {label!r} interrupted: {nodes}{where}."


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%rt_session`` with ``ipython`` (``%load_ext railtracks_nb``), and the
    input transformer that has IPython await its cells natively."""
    ipython.register_magics(RailtracksMagics)
    _remove_transform(ipython)
    ipython.input_transformers_cleanup.append(_native_cell_transform(ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Remove ``%%rt_session`` (``%unload_ext railtracks_nb``)."""
    manager = ipython.magics_manager
    manager.magics["cell"].pop("rt_session", None)
    manager.registry.pop(RailtracksMagics.__name__, None)
    _remove_transform(ipython)
