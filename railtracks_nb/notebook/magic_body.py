"""The body of an ``%%rt_session`` cell compiled as IPython compiles a cell: IPython
syntax transformed, top-level ``await`` allowed, its last expression apart (the
cell's ``Out``), under the cell's own file name so tracebacks show the user's lines."""

from __future__ import annotations

import ast
import inspect
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import CodeType

    from IPython.core.interactiveshell import InteractiveShell


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


