"""Results as data through a real MCP kernel: records as a table, --out into the notebook, calls with their
arguments, tracebacks numbered like the notebook's cells."""

from __future__ import annotations

import pytest
from kernel_driver import KernelDriver

pytestmark = pytest.mark.slow


def test_a_cell_ending_in_records_shows_a_table_and_its_calls_with_arguments(kernel: KernelDriver) -> None:
    assert kernel.execute("%mcp generate demo").status == "ok"
    reply = kernel.execute(
        "%%mcp_execute --servers demo\nfrom servers.demo import top_customers\n"
        "top_customers(n=5, region='EU')['customers']"
    )
    assert reply.status == "ok", reply.reply
    value, footer = reply.bundles
    assert "5 rows × 5 columns" in value["text/plain"] and "<table" in value["text/html"]
    assert "customer_id</th>" in value["text/html"] and "text-align: right" in value["text/html"]
    html = footer["text/html"]
    assert "top_customers" in html and "{&#34;n&#34;: 5, &#34;region&#34;: &#34;EU&#34;}" in html, (
        "what was asked"
    )
    assert "{&#34;customers&#34;: [{&#34;customer_id&#34;" in html, "a preview of what came back"


def test_out_puts_the_value_into_the_notebook_as_plain_python(kernel: KernelDriver) -> None:
    kernel.execute("%mcp generate demo")
    reply = kernel.execute(
        "%%mcp_execute --servers demo --out top\nfrom servers.demo import top_customers\n"
        "top_customers(n=3)['customers']"
    )
    assert reply.status == "ok", reply.reply
    footer = reply.bundles[-1]["text/plain"]
    assert "top ← list of 3 items" in footer and "crossed the sandbox boundary" in footer
    check = kernel.execute("type(top).__name__, len(top), sorted(top[0])")
    assert (
        check.bundles[0]["text/plain"]
        == "('list', 3, ['customer_id', 'name', 'orders', 'region', 'revenue'])"
    )


def test_out_of_a_cell_without_a_value_says_so(kernel: KernelDriver) -> None:
    reply = kernel.execute("%%mcp_execute --out nothing\nx = 1")
    assert reply.status == "error" and reply.of("error")[0]["ename"] == "HandoverError"
    assert "has no value" in "\n".join(reply.of("error")[0]["traceback"])
    assert kernel.execute("'nothing' in globals()").bundles[0]["text/plain"] == "False"


def test_out_as_dataframe_without_pandas_names_the_package_before_running(kernel: KernelDriver) -> None:
    # pandas made unimportable in this kernel (None in sys.modules fails its import), as where it is not installed
    kernel.execute("import sys\n_saved = sys.modules.get('pandas')\nsys.modules['pandas'] = None")
    try:
        reply = kernel.execute("%%mcp_execute --out df --as dataframe\nprint('ran')\n[{'a': 1}]")
    finally:
        kernel.execute("sys.modules.pop('pandas')\nif _saved is not None: sys.modules['pandas'] = _saved")
    assert reply.status == "error" and reply.of("error")[0]["ename"] == "HandoverError"
    assert "needs pandas" in "\n".join(reply.of("error")[0]["traceback"])
    assert "ran" not in reply.stdout, "refused before the cell ran"


def test_out_as_dataframe_gives_a_pandas_dataframe(kernel: KernelDriver) -> None:
    reply = kernel.execute(
        "%%mcp_execute --out df --as dataframe\n"
        "[{'region': 'EU', 'total': 1.5}, {'region': 'NA', 'total': 2.5}]"
    )
    assert reply.status == "ok", reply.reply
    assert "df ← DataFrame of 2 rows × 2 columns" in reply.bundles[-1]["text/plain"]
    check = kernel.execute("type(df).__name__, list(df.columns), float(df['total'].sum())")
    assert check.bundles[0]["text/plain"] == "('DataFrame', ['region', 'total'], 4.0)"


def test_a_traceback_names_the_cell_as_the_notebook_numbers_it(kernel: KernelDriver) -> None:
    reply = kernel.execute("%%mcp_execute\ndef boom():\n    return 1 / 0\nboom()")
    assert reply.status == "error"
    count = reply.reply["execution_count"]
    text = "\n".join(reply.of("error")[0]["traceback"])
    assert f'File "<cell [{count}]>", line 3' in text and f'File "<cell [{count}]>", line 2, in boom' in text
    later = kernel.execute("%%mcp_execute\nboom()")
    assert f'<cell [{count}]>", line 2, in boom' in "\n".join(later.of("error")[0]["traceback"]), (
        "a function keeps the number of the cell that defined it"
    )
