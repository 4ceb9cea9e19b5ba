"""``%mcp`` and ``%%mcp_execute``: parse the line, call the core API, return the result object.

The commands are those of the shared registry (:mod:`mcp_kernel.commands`), so ``%mcp introspect demo``
takes the same flags as ``mcp-kernel introspect demo``. Parsing errors raise IPython's ``UsageError``
(one line, no traceback); errors from servers and the sandbox are ``MCPKernelError`` and show as one line
too (see ``MCPKernelError._render_traceback_``).

For example::

    %load_ext mcp_kernel
    %mcp add demo -- python -m mcp_kernel.demo
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from ..commands import _HelpShown, build_parser, command_list, parse
from ..commands.execute import asker_for, cell_parser, policy_from
from ..errors import CellError, Interrupted, MCPKernelError, OutputTooLarge, SandboxError, UsageError
from ..models import ExecutionResult
from ..settings import MCPKernel

__all__ = ["MCPMagics"]


@magics_class
class MCPMagics(Magics):
    """The magics, holding one core :class:`~mcp_kernel.session.Session` per IPython shell."""

    def __init__(self, shell: Any, settings: MCPKernel | None = None) -> None:
        super().__init__(shell)
        self.settings = settings if settings is not None else MCPKernel(parent=shell)
        self._session: Any = None
        self._parser = build_parser("%mcp", "magic")

    @property
    def session(self) -> Any:
        """The core session, created on first use with the current settings."""
        if self._session is None:
            from ..session import Session  # the whole core: on first use, so `%load_ext` stays fast

            self._session = Session(settings=self.settings)
        else:
            self._session.pool.set_timeouts(self.settings.timeout, self.settings.connect_timeout)
        return self._session

    @line_magic
    def mcp(self, line: str) -> Any:
        """Work with MCP servers: `%mcp help` lists the commands, `%mcp COMMAND -h` explains one."""
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise IPythonUsageError(f"%mcp: cannot split the line ({exc}); check the quotes.") from None
        if not argv or argv[0] in {"help", "-h", "--help"}:  # a table of the commands; `%mcp CMD -h` for one
            return self._help()
        try:
            args = parse(self._parser, argv)
        except _HelpShown:
            return None
        except UsageError as exc:
            raise IPythonUsageError(str(exc)) from None
        from ..elicitation import attached, kernel_asker  # ~6 ms: only when something may ask the person

        try:
            with attached(kernel_asker()):  # a server's questions are put to the person at this frontend
                result = args.handler(self.session, args)
        except UsageError as exc:
            raise IPythonUsageError(str(exc)) from None
        except SandboxError as exc:
            exc.worded_for("notebook")  # `%mcp session new` past the cap: advice in notebook words
            raise
        except KeyboardInterrupt:
            # The request in flight was cancelled (runtime.run does it); the servers stay up.
            raise Interrupted(f"%mcp {argv[0]} was stopped; the request in flight was cancelled.") from None
        if getattr(args, "json", False):
            from ..display import to_json  # the renderers: only for --json

            print(to_json(result))
            return None
        return result

    @cell_magic
    def mcp_execute(self, line: str, cell: str) -> None:
        """Run the cell in the WebAssembly sandbox: `%%mcp_execute [--servers a,b] [--timeout S] [--memory MB]
        [--fuel N] [--no-cache] [--session NAME] [--interactive] [--out NAME [--as dataframe]]`. Output streams as
        it is printed; a value of records shows as a table; the views the code asked for with `show(result)` follow;
        a footer sums up calls, time and tokens. The stop button stops the cell (its tool calls are cancelled) and nothing else."""
        from ..handover import check_form  # pydantic models: only when a cell runs

        parser = cell_parser()
        try:
            args = parser.parse_args(shlex.split(line))
            policy = policy_from(self.session, args)
            if args.out:
                check_form(args.out, args.form)
            elif args.form != "python":
                raise UsageError("--as needs --out NAME: the variable the value goes into.")
        except _HelpShown:
            return None
        except (UsageError, ValueError) as exc:
            raise IPythonUsageError(str(exc)) from None
        try:
            self._run_cell(
                cell, policy, getattr(args, "session", None), args.interactive, args.out, args.form
            )
        except KeyboardInterrupt:
            # Landed outside the wait on the sandbox (while starting or displaying): stop whatever runs.
            self.session.interrupt()
            raise Interrupted("the cell was stopped; the kernel and its servers carry on.") from None
        return None

    def _run_cell(
        self,
        cell: str,
        policy: Any,
        sandbox: str | None,
        interactive: bool,
        out: str | None = None,
        form: Any = "python",
    ) -> None:
        # the renderers, the handover and the live displays: only when a cell runs
        from ..display import CellValue, ExecutionFooter
        from ..elicitation import kernel_asker
        from ..handover import hand_over
        from .output import CellOutput
        from .progress import BuildProgress, CellStatus

        output = CellOutput()  # a head streamed, then a bounded tail: a print loop cannot flood the page
        build = BuildProgress()  # the first build on a machine: a bar, emptied when the component is ready
        status = CellStatus()  # "N calls · elapsed" while the cell runs; the footer replaces it
        try:
            result = self.session.execute(
                cell,
                policy,
                on_progress=build,
                on_output=output,
                sandbox=sandbox,
                on_tool_progress=_ToolProgress(),
                cell_name=self._cell_name(),
                on_call=lambda record: status.call(f"{record.server}.{record.tool}"),
                asker=asker_for(interactive, kernel_asker, "`%%mcp_execute --interactive`"),
            )
        except (SandboxError, Interrupted) as exc:
            build.close()
            status.close()
            output.close(
                f"the cell was stopped at its output limit ({policy.output_limit_bytes:,} bytes)"
                if isinstance(exc, OutputTooLarge)
                else f"the cell was stopped ({type(exc).__name__})"
            )
            if isinstance(exc, SandboxError):
                exc.worded_for("notebook")  # a limit's advice names %%mcp_execute's options
            if isinstance(exc.result, ExecutionResult):  # what a cell stopped part-way produced, if known
                display(ExecutionFooter(exc.result))
            raise
        except BaseException:
            build.close()
            status.close()
            raise
        build.close()
        status.close()
        output.close()
        if result.error is None and result.value_repr is not None:
            display(CellValue(result))
        self._show_views(result)
        if result.error is not None:
            display(ExecutionFooter(result))
            raise CellError(
                f"{result.error.type}: {result.error.message}",
                traceback=result.error.traceback,
                result=result,
            )
        if out is None:
            display(ExecutionFooter(result))
            return
        try:
            handover = hand_over(result, out, form)
        except Exception:
            display(ExecutionFooter(result))
            raise
        assert self.shell is not None, "a magic runs in a shell"
        self.shell.user_ns[out] = handover.value
        display(ExecutionFooter(result, handover=handover.describe()))

    def _show_views(self, result: ExecutionResult) -> None:
        """The MCP Apps views the cell asked for with ``show(result)``, live; one that cannot be shown is said on
        stderr (its result is not shown instead: the code kept the data in the sandbox)."""
        if not result.views:
            return
        from ..apps.view import open_view  # anywidget and ipywidgets: only when a cell asked for a view

        for view in result.views:
            try:
                display(open_view(self.session, view.result, view.arguments))
            except MCPKernelError as exc:
                print(f"The view of {view.server}.{view.tool} cannot be shown: {exc}", file=sys.stderr)

    def _cell_name(self) -> str | None:
        """The cell's number as the notebook shows it (``[9]``), so the sandbox's tracebacks name it so."""
        # IPython 9 counts the next cell up before this one runs (its displayhook's prompt_count is this
        # cell's number); IPython 8 counts up afterwards and has no prompt_count.
        count = getattr(getattr(self.shell, "displayhook", None), "prompt_count", None)
        if not isinstance(count, int):
            count = getattr(self.shell, "execution_count", None)
        return f"[{count}]" if isinstance(count, int) else None

    def _help(self) -> Any:
        return command_list("%mcp", "magic")

    def close(self) -> None:
        """Stop every server this shell started."""
        if self._session is not None:
            self._session.close()
            self._session = None


class _ToolProgress:
    """Progress of the tool calls a sandboxed cell makes: one display per call, updated in place."""

    def __init__(self) -> None:
        self.handles: dict[tuple[str, str], Any] = {}

    def __call__(
        self, server: str, tool: str, value: float, total: float | None, message: str | None
    ) -> None:
        from ..display import progress_bundle  # the renderers: only when progress is shown

        bundle = progress_bundle(server, tool, value, total, message)
        handle = self.handles.get((server, tool))
        if handle is None:
            self.handles[(server, tool)] = display(bundle, raw=True, display_id=True)
        else:
            handle.update(bundle, raw=True)
