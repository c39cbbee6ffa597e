"""The S3 source's advanced rules: what each selects, what it lists, how a wrong one is told."""

import pytest

from connectors.config import ConfigError
from connectors.sources.s3.rules import extension, listing_prefixes, parse_rules, selects
from connectors.sources.s3.source import S3DataSource

BUCKETS = ["docs", "logs"]


def test_extension_is_the_last_dot_of_the_name_in_lower_case():
    assert extension("a/b.PDF") == ".pdf"
    assert extension("a/b.tar.gz") == ".gz"
    assert extension("a.d/b") == ""  # a dot in a folder is not the file's
    assert extension("a/.profile") == ""  # a hidden file's name, not an extension
    assert extension("plain") == ""


def test_an_object_is_taken_when_it_meets_every_condition_of_one_rule():
    rules = parse_rules(
        [
            {"bucket": "docs", "prefix": "reports/", "extensions": ["PDF", ".docx"]},
            {"max_size": 10},
        ],
        BUCKETS,
    )
    assert selects(rules, "docs", "reports/q1.pdf", 5000)
    assert selects(rules, "docs", "reports/q1.DOCX", 5000)
    assert not selects(rules, "logs", "reports/q1.pdf", 5000)  # bucket
    assert not selects(rules, "docs", "other/q1.pdf", 5000)  # prefix
    assert not selects(rules, "docs", "reports/q1.txt", 5000)  # extension
    assert selects(rules, "logs", "anything", 10)  # the second rule, bounds inclusive
    assert not selects(rules, "logs", "anything", 11)


def test_no_rules_take_everything_and_min_size_bounds_from_below():
    assert selects((), "docs", "x", 0)
    rules = parse_rules([{"min_size": 100, "extensions": [""]}], BUCKETS)
    assert selects(rules, "docs", "README", 100)
    assert not selects(rules, "docs", "README", 99)
    assert not selects(rules, "docs", "notes.txt", 500)  # [""]: files without extension


def test_rules_with_prefixes_narrow_the_listing_to_disjoint_sorted_prefixes():
    rules = parse_rules(
        [{"prefix": "b/"}, {"prefix": "a/x/"}, {"prefix": "a/"}, {"bucket": "logs"}], BUCKETS
    )
    assert listing_prefixes(rules, "docs", "") == ["a/", "b/"]  # a/x/ lies inside a/
    assert listing_prefixes(rules, "logs", "") == [""]  # a rule with no prefix lists all
    narrow = parse_rules([{"bucket": "docs", "prefix": "a/"}], BUCKETS)
    assert listing_prefixes(narrow, "logs", "") == []  # no rule for that bucket
    assert listing_prefixes((), "docs", "base/") == ["base/"]
    assert listing_prefixes(parse_rules([{"prefix": "b"}], BUCKETS, "base/"), "docs", "base/") == [
        "base/"
    ]


def test_every_problem_of_every_rule_is_named_by_its_place():
    with pytest.raises(ConfigError) as err:
        parse_rules(
            [
                {"bucket": "nope", "extension": [".pdf"]},
                "just a string",
                {"min_size": 10, "max_size": 5, "extensions": ".pdf"},
                {},
                {"prefix": "elsewhere/", "max_size": -1},
            ],
            BUCKETS,
            "base/",
        )
    text = str(err.value)
    for part in (
        "rules[0].extension: unknown condition",
        "rules[0].bucket: 'nope' is not one of the buckets",
        "rules[1]: expected an object",
        "rules[2]: min_size 10 is above max_size 5",
        'rules[2].extensions: expected a list of strings like [".pdf"]',
        "rules[3]: empty",
        "rules[4].prefix: 'elsewhere/' is outside the configured prefix 'base/'",
        "rules[4].max_size: expected a size in bytes",
    ):
        assert part in text, f"{part!r} missing from: {text}"


def test_a_wrong_rule_stops_the_source_before_it_reads_anything():
    config = {"buckets": ["docs"], "access_key_id": "a", "secret_access_key": "s3cr3t-value"}
    with pytest.raises(ConfigError) as err:
        S3DataSource(config | {"rules": [{"bucket": "other"}]})
    assert "rules[0].bucket" in str(err.value)
    assert "s3cr3t-value" not in str(err.value)
    assert S3DataSource(config | {"rules": [{"prefix": "a/"}]}).rules[0].prefix == "a/"
