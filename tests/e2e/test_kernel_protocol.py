"""The MCP kernel passes jupyter_kernel_test's protocol checks, through a real jupyter_client."""

from __future__ import annotations

import os
import tempfile

import jupyter_kernel_test as jkt

from mcp_kernel.kernelspec import install


class TestMCPKernel(jkt.KernelTests):
    """Skipped: the 'range' history operation (IPython's history is per session, so ranges are not
    meaningful between test cases) — the same choice IPython's own kernel tests make."""

    @classmethod
    def setUpClass(cls) -> None:
        cls._prefix = tempfile.TemporaryDirectory()
        install(prefix=cls._prefix.name)
        cls._saved_path = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.path.join(cls._prefix.name, "share", "jupyter")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        if cls._saved_path is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = cls._saved_path
        cls._prefix.cleanup()

    kernel_name = "mcp"
    language_name = "python"
    file_extension = ".py"
    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('oops', file=sys.stderr)"
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise ValueError('boom')"
    code_execute_result = [{"code": "1+2+3", "result": "6"}, {"code": "[n*n for n in range(3)]", "result": "[0, 1, 4]"}]
    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>x</b>'))", "mime": "text/html"},
    ]
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"
