"""Typed values that cross mcp-kernel's boundaries (config, MCP results, reports), one module per subject.

Everything here is a pydantic model so that what comes from a file, a server or a user is checked once,
on the way in. The ``mcp`` SDK's own types never leave ``client/``; they are converted to these. Import them
from here (``from mcp_kernel.models import ServerSpec``); the modules only say where each one lives:

- ``servers``: reaching a server (``ServerSpec``, ``OAuthSettings``), its handshake, the server list,
  sign-in, validation, logs
- ``tools``: tools, tool calls, introspection, search
- ``resources`` and ``prompts``: what ``resources/*``, ``prompts/*`` and ``completion/complete`` return
- ``execution``: a sandboxed cell's result, its calls through the bridge, sandbox sessions and counters
- ``tokens``: token savings per tool, per server, in total and per cell
- ``bindings``: what ``generate`` wrote, files of the virtual tree, saved plugins
- ``skills``: functions code saved as skills, and a store's list of them
- ``commands``: the other commands' answers (notices, help, settings, kernelspec, debug, demo)
- ``apps``: an MCP Apps view as read from its server, what the view said or was refused, a view a cell asked for
- ``base``: ``_Model``, the base of the result models

>>> spec = ServerSpec(name="demo", command="python", args=["-m", "mcp_kernel.demo"])
>>> spec.transport
'stdio'
"""

from __future__ import annotations

from .apps import AppNote, AppResource, ViewRequest
from .audit import AuditEntry, AuditReport
from .base import _Model
from .bindings import FileView, GenerateReport, PluginInfo, PluginList
from .commands import (
    CommandList,
    CommandSummary,
    DebugReport,
    DemoReport,
    KernelspecResult,
    Notice,
    SettingRow,
    SettingsReport,
)
from .execution import (
    BridgeStats,
    CallBudgetReport,
    CallRecord,
    ExecutionResult,
    GuestError,
    SandboxSessionInfo,
    SandboxSessionList,
    SessionStats,
)
from .prompts import Completion, PromptArgumentInfo, PromptInfo, PromptList, PromptMessageView, PromptView
from .resources import ResourceContent, ResourceInfo, ResourceList, ResourceRead, ResourceTemplateInfo
from .servers import (
    REDACTED,
    AuthStatus,
    LogExcerpt,
    OAuthSettings,
    ServerAdded,
    ServerEntry,
    ServerInfo,
    ServerList,
    ServerSpec,
    SignInLink,
    ValidationReport,
    ValidationRow,
)
from .skills import Skill, SkillInfo, SkillList
from .tokens import CellTokens, ServerTokens, TokenReport, ToolTokens
from .tools import CallResult, Introspection, SearchHit, SearchResults, ToolAnnotations, ToolInfo

__all__ = [
    "REDACTED",
    "AppNote",
    "AppResource",
    "AuditEntry",
    "AuditReport",
    "AuthStatus",
    "BridgeStats",
    "CallBudgetReport",
    "CallRecord",
    "CallResult",
    "CellTokens",
    "CommandList",
    "CommandSummary",
    "Completion",
    "DebugReport",
    "DemoReport",
    "ExecutionResult",
    "FileView",
    "GenerateReport",
    "GuestError",
    "Introspection",
    "KernelspecResult",
    "LogExcerpt",
    "Notice",
    "OAuthSettings",
    "PluginInfo",
    "PluginList",
    "PromptArgumentInfo",
    "PromptInfo",
    "PromptList",
    "PromptMessageView",
    "PromptView",
    "ResourceContent",
    "ResourceInfo",
    "ResourceList",
    "ResourceRead",
    "ResourceTemplateInfo",
    "SandboxSessionInfo",
    "SandboxSessionList",
    "SearchHit",
    "SearchResults",
    "ServerAdded",
    "ServerEntry",
    "ServerInfo",
    "ServerList",
    "ServerSpec",
    "ServerTokens",
    "SessionStats",
    "SettingRow",
    "SettingsReport",
    "SignInLink",
    "Skill",
    "SkillInfo",
    "SkillList",
    "TokenReport",
    "ToolAnnotations",
    "ToolInfo",
    "ToolTokens",
    "ValidationReport",
    "ValidationRow",
    "ViewRequest",
    "_Model",
]
