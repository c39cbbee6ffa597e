"""The comparison logic, on an in-memory stand-in for the index."""

import pytest

from harness.checks.assertions import (
    OutcomeError,
    assert_nothing_written,
    compare_index,
    diff_fields,
)


class FakeReader:
    def __init__(self, docs):
        self.docs = docs

    def refresh(self):
        pass

    def count(self):
        return len(self.docs)

    def get_many(self, ids):
        return {i: self.docs[i] for i in ids if i in self.docs}

    def ids(self):
        return iter(self.docs)


EXPECTED = [("a", {"n": 1, "t": "x"}), ("b", {"n": 2, "t": "y"}), ("c", {"n": 3, "t": "z"})]


def test_a_matching_index_passes():
    result = compare_index(FakeReader({k: dict(v, _h="1") for k, v in EXPECTED}), EXPECTED, ["_h"])
    assert result.ok


def test_missing_extra_duplicate_and_mismatch_are_each_named():
    index = {
        "a": {"n": 1, "t": "x"},
        "b": {"n": "2", "t": "y", "extra": 1},
        "a-copy": {"n": 1, "t": "x"},
        "zzz": {"n": 9},
    }
    result = compare_index(FakeReader(index), lambda: iter(EXPECTED))
    report = result.report("idx")
    assert not result.ok
    assert result.missing == ["c"]
    assert set(result.extra) == {"a-copy", "zzz"}
    assert result.duplicates == [("a", "a-copy")]
    assert "1 missing (in the source, not in the index), e.g. c" in report
    assert "duplicates (the same source document under two ids), e.g. a = a-copy" in report
    assert 'n: expected 2, got "2"' in report
    assert "extra: unexpected field (value 1)" in report


def test_json_equality_rules():
    assert diff_fields({"x": 1}, {"x": 1.0}, frozenset()) == []
    assert diff_fields({"x": True}, {"x": 1}, frozenset()) == ["x: expected true, got 1"]
    assert diff_fields({"x": "long" * 100}, {}, frozenset())[0].endswith("(402 chars))")


def test_nothing_written_names_what_moved():
    assert_nothing_written((10, 0, 9), (10, 0, 9), "idx")
    with pytest.raises(OutcomeError, match="documents written: 10 -> 12; highest _seq_no: 9 -> 11"):
        assert_nothing_written((10, 0, 9), (12, 0, 11), "idx")


def test_strings_that_look_alike_are_shown_escaped():
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    (line,) = diff_fields({"t": nfc}, {"t": nfd}, frozenset())
    assert line == 't: expected "caf\\u00e9", got "cafe\\u0301"'
    (line,) = diff_fields({"t": "a\u200db"}, {"t": "ab"}, frozenset())
    assert "\\u200d" in line
    (line,) = diff_fields({"t": "Zoë"}, {"t": "Zoe"}, frozenset())
    assert line == 't: expected "Zoë", got "Zoe"', "visibly different text stays readable"


def test_ids_with_invisible_characters_are_quoted_in_reports():
    result = compare_index(FakeReader({}), [("texts:cafe\u0301", {}), ("texts:x ", {})])
    report = result.report("idx")
    assert '"texts:cafe\\u0301"' in report
    assert '"texts:x "' in report


def test_the_report_counts_the_documents_each_field_differs_in():
    index = {"a": {"n": 1.5, "t": "x"}, "b": {"n": 2.5, "t": "y"}, "c": {"n": 3, "t": "Z"}}
    report = compare_index(FakeReader(index), EXPECTED).report("idx")
    assert "3 documents differ field by field, in n (2), t (1); first ones:" in report
