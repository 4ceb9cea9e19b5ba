"""The one pausable deadline: a person's time does not count, however the pauses overlap or nest. Driven by
a clock the test moves, so nothing here waits on the wall clock."""

from __future__ import annotations

import threading

import pytest

from mcp_kernel.deadline import PAUSED_POLL, Deadline


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_it_runs_out_after_its_seconds(clock: Clock) -> None:
    deadline = Deadline(10, clock=clock)
    clock.advance(9.5)
    assert deadline.remaining() == 0.5 and not deadline.expired()
    clock.advance(0.5)
    assert deadline.expired()


def test_without_seconds_it_never_expires_but_still_counts_pauses(clock: Clock) -> None:
    deadline = Deadline(clock=clock)
    with deadline.paused():
        clock.advance(3)
    clock.advance(1000)
    assert deadline.remaining() is None and not deadline.expired() and deadline.next_check() is None
    assert deadline.held() == 3


def test_a_pause_stops_the_clock_and_adds_its_time(clock: Clock) -> None:
    deadline = Deadline(10, clock=clock)
    clock.advance(4)
    with deadline.paused():
        clock.advance(60)
        assert deadline.is_paused and deadline.remaining() == 6 and not deadline.expired()
    assert not deadline.is_paused and deadline.held() == 60
    clock.advance(5.9)
    assert not deadline.expired()
    clock.advance(0.1)
    assert deadline.expired()


def test_it_does_not_expire_while_paused_even_past_its_end(clock: Clock) -> None:
    deadline = Deadline(1, clock=clock)
    deadline.pause()
    clock.advance(100)
    assert not deadline.expired()
    deadline.resume()
    clock.advance(1)
    assert deadline.expired()


def test_overlapping_pauses_count_their_time_once(clock: Clock) -> None:
    """Two questions open at once: the clock stops at the first and runs again after the last."""
    deadline = Deadline(10, clock=clock)
    deadline.pause()
    clock.advance(2)
    deadline.pause()
    clock.advance(3)
    deadline.resume()
    clock.advance(4)
    assert deadline.is_paused
    deadline.resume()
    assert deadline.held() == 9 and deadline.remaining() == 10


def test_a_follower_is_paused_by_the_deadline_it_follows(clock: Clock) -> None:
    person = Deadline(clock=clock)
    call = Deadline(5, follows=person)
    clock.advance(2)
    with person.paused():
        clock.advance(30)
        assert call.is_paused and call.remaining() == 3
    assert call.held() == 30 and call.remaining() == 3


def test_a_follower_ignores_pauses_before_its_start(clock: Clock) -> None:
    person = Deadline(clock=clock)
    with person.paused():
        clock.advance(30)
    call = Deadline(5, follows=person)
    clock.advance(5)
    assert call.held() == 0 and call.expired()


def test_a_follower_started_during_a_pause_waits_for_it_to_end(clock: Clock) -> None:
    person = Deadline(clock=clock)
    person.pause()
    clock.advance(10)
    call = Deadline(5, follows=person)
    clock.advance(20)
    assert call.remaining() == 5
    person.resume()
    clock.advance(5)
    assert call.expired()


def test_followers_chain(clock: Clock) -> None:
    """A cell's limit follows its asker's clock; each tool call's limit follows the cell's."""
    asker = Deadline(clock=clock)
    cell = Deadline(60, follows=asker)
    call = Deadline(10, follows=cell)
    clock.advance(8)
    with asker.paused():
        clock.advance(100)
    assert cell.remaining() == 52 and call.remaining() == 2


def test_start_counts_again_from_now(clock: Clock) -> None:
    deadline = Deadline(clock=clock)
    with deadline.paused():
        clock.advance(7)
    deadline.start(10)
    assert deadline.held() == 0 and deadline.remaining() == 10
    deadline.pause()
    clock.advance(3)
    deadline.start(10)  # started while paused: the pause counts from the start on
    clock.advance(3)
    deadline.resume()
    assert deadline.held() == 3 and deadline.remaining() == 10


def test_next_check_waits_what_remains_or_polls_while_paused(clock: Clock) -> None:
    deadline = Deadline(10, clock=clock)
    clock.advance(9.9)
    assert deadline.next_check() == pytest.approx(0.1)
    with deadline.paused():
        assert deadline.next_check() == PAUSED_POLL
        assert deadline.next_check(poll=0.05) == pytest.approx(0.1)
    clock.advance(5)
    assert deadline.next_check() == 0.0


def test_pauses_from_many_threads_balance(clock: Clock) -> None:
    deadline = Deadline(10, clock=clock)

    def answer() -> None:
        for _ in range(1000):
            with deadline.paused():
                pass

    threads = [threading.Thread(target=answer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not deadline.is_paused and deadline.held() == 0  # the clock never moved


def test_repr_says_what_is_left(clock: Clock) -> None:
    deadline = Deadline(10, clock=clock)
    with deadline.paused():
        assert repr(deadline) == "<Deadline 10 s left, paused>"
    assert repr(Deadline(clock=clock)) == "<Deadline no limit>"
