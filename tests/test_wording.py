"""wording: how our messages count and list things."""

from __future__ import annotations


def test_a_word_agrees_with_its_number_and_a_list_reads_as_a_sentence():
    """The one helper our messages make a word agree with a number by (0 and 2 take the
    plural), and the one that joins a list as a sentence does."""
    from recommender.wording import and_list, plural
    assert [plural(n, "request") for n in (0, 1, 2)] == ["requests", "request", "requests"]
    assert (plural(1, "copy", "copies"), plural(3, "copy", "copies"), plural(1, "has", "have")) == ("copy", "copies", "has")
    assert [and_list(x) for x in ([], ["A"], ["A", "B"], ["A", "B", "C"])] == ["", "A", "A and B", "A, B and C"]
