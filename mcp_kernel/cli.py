"""The ``mcp-kernel`` command line: a thin shell over :class:`mcp_kernel.session.Session`.

Every subcommand comes from the shared registry (:mod:`mcp_kernel.commands`), so it takes the same
names and flags as ``%mcp`` in a notebook. Expected failures print one line to stderr and exit with the
code their error class carries (1; 2 for a usage error; 130 when interrupted, Ctrl-C included); only a bug
shows a traceback.

For example::

    main(["--version"])
    # mcp-kernel 0.1.0
    # 0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .commands import _HelpShown, build_parser, parse
from .errors import Interrupted, MCPKernelError, SandboxError, UsageError
from .models import _Model
from .terminal import printable

__all__ = ["main"]


def exit_code(result: object) -> int:
    """The exit code a printed result asks for: every result model says it (``exit_code``: 1 for a failing
    cell, an ``isError`` tool result, a failed validation); anything else (text, a policy, a tree) is 0."""
    return result.exit_code if isinstance(result, _Model) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    try:
        return _run(list(sys.argv[1:] if argv is None else argv))
    except MCPKernelError as exc:
        return _failed(exc)
    except KeyboardInterrupt:  # Ctrl-C wherever it lands: starting up, connecting, waiting on a cell
        print("interrupted", file=sys.stderr)
        return Interrupted.exit_code


def _failed(exc: MCPKernelError) -> int:
    """Say an expected failure in one line on stderr; its class carries the exit code."""
    if isinstance(exc, SandboxError):
        exc.worded_for("cli")  # a limit's advice names this command's flags
    print(f"error: {printable(str(exc))}", file=sys.stderr)
    return exc.exit_code


def _run(argv: list[str]) -> int:
    """Parse ``argv``, run its command and print what it returns; an expected failure raises."""
    _without_iri_syntax()
    if argv[:1] in (["--version"], ["-V"]):
        from .versions import own as own_version  # importlib.metadata (~50 ms): only for --version

        print(f"mcp-kernel {own_version()}")
        return 0
    parser = build_parser("mcp-kernel", "cli")
    try:
        args = parse(parser, argv)
    except _HelpShown as shown:
        if str(shown):
            print(str(shown), file=sys.stderr, end="")
        return 0
    if not getattr(args, "command", None):
        parser.print_help()
        return UsageError.exit_code

    # the core: only once a command is parsed, so `--help` and usage errors stay fast
    from .display import to_json, to_text
    from .session import Session

    session = None
    try:
        from .settings import load_settings  # traitlets: not before a command runs

        settings = load_settings()
        if args.timeout is not None:
            settings.timeout = settings.connect_timeout = args.timeout
        session = Session(settings=settings, config_file=args.config)
        result = args.handler(session, args)
        output = to_json(result) if getattr(args, "json", False) else to_text(result)
        if output:
            print(output)
        return exit_code(result)
    except BrokenPipeError:
        # `mcp-kernel ... | head` closed the pipe: not an error, and no traceback at exit either.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if session is not None:
            session.close()


def _without_iri_syntax() -> None:
    """Keep jsonschema from loading rfc3987-syntax in this process.

    jsonschema checks the ``iri`` formats with rfc3987-syntax when it is installed (Jupyter's extras install
    it), and that package builds a grammar when imported: 2.9 s for ``import jsonschema`` on this project's
    machine instead of 0.2 s, paid by every command that calls a tool, since the SDK checks a tool's result
    with jsonschema. Nothing in mcp-kernel's own process asserts formats (neither the SDK's validators nor the
    bridge's), and no user code runs in it (cells run in the sandbox), so the command line does without it.
    A notebook kernel, where user code may check formats, keeps it.
    """
    # None: `import rfc3987_syntax` fails, as if absent (documented for sys.modules; typeshed allows only modules)
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
