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

import re
import tokenize
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    cell_magic,
    magics_class,
    no_var_expand,
    output_can_be_silenced,
)

from ..core.exceptions import ConfigError
from ..engine import logs
from ..engine._sync import drive, run_in_loop
from ..engine.session import Session
from .magic_body import _compile_body, _evaluate, _user_traceback
from .magic_options import DEFAULT_VAR, MagicOptions, parse_options, split_options

if TYPE_CHECKING:

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
