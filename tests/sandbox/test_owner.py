"""The owner thread: jobs in order, errors handed back, and the store refuses any other thread."""

from __future__ import annotations

import threading

import pytest

from mcp_kernel.sandbox import Sandbox
from mcp_kernel.sandbox.owner import Owner, OwnershipError

pytestmark = pytest.mark.slow


def test_jobs_run_in_order_on_one_thread() -> None:
    owner = Owner("t")
    seen: list[tuple[int, int]] = []
    futures = [owner.submit(lambda i=i: seen.append((i, threading.get_ident()))) for i in range(20)]
    for future in futures:
        future.result(5)
    assert [i for i, _ in seen] == list(range(20))
    assert {t for _, t in seen} == {owner.ident}
    with pytest.raises(ZeroDivisionError):
        owner.submit(lambda: 1 / 0).result(5)
    assert owner.close()
    with pytest.raises(RuntimeError, match="closed"):
        owner.submit(lambda: None)


def test_the_store_cannot_be_touched_from_another_thread(sandbox: Sandbox) -> None:
    sandbox.execute("1")
    instance = sandbox._instance
    assert instance is not None
    with pytest.raises(OwnershipError):
        instance.run("{}", memory_bytes=1 << 24, fuel=10**6)
    with pytest.raises(OwnershipError):
        instance.close()
    assert sandbox.execute("2").value == 2


def test_two_threads_executing_at_once_take_turns(sandbox: Sandbox) -> None:
    sandbox.execute("n = 0")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                sandbox.execute("n += 1")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sandbox.execute("n").value == 100
