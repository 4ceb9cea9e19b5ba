"""A form asked one field at a time (mcp_kernel/questions.py): each answer checked against its field's limits."""

from __future__ import annotations

import pytest

from mcp_kernel.questions import Question, ask_form


@pytest.mark.parametrize(
    ("prop", "bad", "good", "told"),
    [
        ({"type": "integer", "minimum": 1}, "0", "1", "must be at least 1"),
        ({"type": "number", "maximum": 2.5}, "3", "2.5", "must be at most 2.5"),
        ({"type": "string", "minLength": 2}, "A", "Ab", "needs at least 2 characters"),
        ({"type": "string", "maxLength": 3}, "Anna", "Ann", "allows at most 3 characters"),
        ({"type": "array", "items": {"type": "string"}, "minItems": 2}, "a", "a, b", "give at least 2"),
        ({"type": "array", "items": {"type": "integer"}, "maxItems": 1}, "1, 2", "1", "give at most 1"),
        ({"type": "array", "items": {"type": "integer", "minimum": 0}}, "1, -1", "1", "must be at least 0"),
    ],
)
def test_an_answer_past_a_fields_limit_is_asked_again_in_plain_words(
    prop: dict, bad: str, good: str, told: str
) -> None:
    replies = iter(["y", bad, good])
    shown: list[str] = []
    question = Question("s", "Hi?", {"type": "object", "required": ["x"], "properties": {"x": prop}})
    answer = ask_form(question, lambda p: next(replies), shown.append)
    assert answer.action == "accept" and answer.content is not None
    assert f"  {told}; try again.\n" in shown


def test_format_and_pattern_are_shown_not_enforced() -> None:
    """Only the limits are checked here: a ``format`` or ``pattern`` is the server's to judge, as before."""
    prop = {"type": "string", "format": "email", "pattern": "^[a-z]+$"}
    replies = iter(["y", "Not An Email"])
    question = Question("s", "Hi?", {"type": "object", "properties": {"x": prop}})
    assert ask_form(question, lambda p: next(replies), lambda t: None).content == {"x": "Not An Email"}
