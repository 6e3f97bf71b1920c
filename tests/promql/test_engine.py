"""The engine's own contract: the sample source protocol, limits, errors and result types.

Semantics are proven against Prometheus in test_compliance.py; these tests cover what
the oracle cannot see: how the source is asked, the caller's cost cap and deadline, the
API-level refusals, and the result helpers the HTTP API will format with.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from dashapp.core.promql import (
    STALE_NAN,
    BadData,
    ExecutionError,
    Matcher,
    MatchOp,
    MemorySource,
    QueryTimeout,
    TooExpensive,
    Unsupported,
    Vector,
    evaluate_instant,
    evaluate_range,
    format_time,
    format_value,
    is_stale,
    parse,
    selector_matchers,
)

T = 1_700_000_000.0
MS = T * 1000


@pytest.fixture
def source() -> MemorySource:
    memory = MemorySource()
    times = MS + np.arange(0, 3_600_000, 15_000) + 123
    memory.add({"__name__": "c", "job": "a"}, times, np.arange(len(times), dtype=float))
    memory.add({"__name__": "c", "job": "b"}, times, 2.0 * np.arange(len(times)))
    return memory


def test_each_selector_is_read_once_over_the_whole_window_it_needs(source) -> None:
    expr = "rate(c[5m] offset 1m) + c + max_over_time(c[10m:1m])"
    evaluate_range(expr, T + 1800, T + 3000, 60, source)
    assert len(source.calls) == 1  # one distinct selector, one call
    matchers, start, end = source.calls[0]
    assert matchers == (Matcher("__name__", MatchOp.EQUAL, "c"),)
    first_inner_step = math.ceil((MS + 1_800_000 - 600_000) / 60_000) * 60_000
    assert start == first_inner_step - 300_000  # the subquery's first step less the lookback
    assert end == MS + 3_000_000
    evaluate_range(expr + " + c @ 1700000100", T + 1800, T + 3000, 60, source)
    assert len(source.calls) == 2
    assert source.calls[1][1:] == (MS + 100_000 - 300_000, MS + 3_000_000)  # @ reaches back


def test_a_query_over_the_cost_cap_is_refused_before_evaluation(source) -> None:
    evaluate_range("sum(c)", T + 1800, T + 3600, 15, source, max_cost=2_000)
    with pytest.raises(TooExpensive) as refused:
        evaluate_range("sum(c)", T + 1800, T + 3600, 15, source, max_cost=500)
    assert refused.value.error_type == "execution"


def test_a_query_past_its_deadline_times_out(source) -> None:
    class Slow(MemorySource):
        def select(self, matchers, start, end):
            time.sleep(0.05)  # storage slower than the query's deadline
            return super().select(matchers, start, end)

    slow = Slow(source.series)
    with pytest.raises(QueryTimeout) as late:
        evaluate_instant("sum(c)", T + 1800, slow, timeout=0.01)
    assert late.value.error_type == "timeout"
    assert str(late.value) == "query timed out in expression evaluation"


def test_range_queries_are_refused_as_the_prometheus_api_refuses_them(source) -> None:
    assert len(evaluate_range("c", T, T + 11_000, 1, source).series) == 2
    with pytest.raises(BadData, match="exceeded maximum resolution of 11,000 points"):
        evaluate_range("c", T, T + 11_001, 1, source)
    with pytest.raises(BadData, match="zero or negative query resolution step"):
        evaluate_range("c", T, T + 60, 0, source)
    with pytest.raises(BadData, match="end timestamp must not be before start time"):
        evaluate_range("c", T + 60, T, 15, source)
    with pytest.raises(BadData, match='invalid expression type "range vector" for range query'):
        evaluate_range("c[5m]", T, T + 60, 15, source)


def test_unsupported_features_name_themselves_and_are_bad_data(source) -> None:
    with pytest.raises(Unsupported, match="native histograms") as refused:
        evaluate_instant("histogram_sum(c)", T, source)
    assert refused.value.error_type == "bad_data"
    with pytest.raises(Unsupported, match=r"sort_by_label\(\) is not supported"):
        evaluate_instant('sort_by_label(c, "job")', T, source)


def test_a_staleness_marker_ends_a_series_until_its_next_sample() -> None:
    memory = MemorySource()
    memory.add({"__name__": "g"}, [MS, MS + 15_000, MS + 60_000], [1.0, STALE_NAN, 3.0])
    memory.add({"__name__": "n"}, [MS], [math.nan])  # a NaN value is a value
    assert is_stale(np.array([STALE_NAN, math.nan])).tolist() == [True, False]
    values = [evaluate_instant("g", T + s, memory) for s in (10, 30, 70)]
    assert [len(v.samples) for v in values] == [1, 0, 1]
    assert math.isnan(evaluate_instant("n", T + 10, memory).samples[0].value)


def test_the_lookback_delta_is_the_callers(source) -> None:
    stale_by_a_minute = T + 3600 + 60  # last samples are about 45 s before the hour
    assert len(evaluate_instant("c", stale_by_a_minute, source).samples) == 2
    assert evaluate_instant("c", stale_by_a_minute, source, lookback=30).samples == ()


def test_times_may_be_datetimes_and_vectors_come_sorted_by_labels(source) -> None:
    moment = datetime.fromtimestamp(T + 1800, UTC)
    answer = evaluate_instant("c", moment, source)
    assert isinstance(answer, Vector)
    assert [s.metric["job"] for s in answer.samples] == ["a", "b"]
    assert answer.samples[0].timestamp == MS + 1_800_000
    desc = evaluate_instant("sort_desc(c)", moment, source)
    assert [s.metric["job"] for s in desc.samples] == ["b", "a"]


def test_matching_errors_are_execution_errors_worded_as_prometheus(source) -> None:
    with pytest.raises(ExecutionError, match="found duplicate series for the match group"):
        evaluate_instant("c + on() c", T + 1800, source)


def test_values_and_times_format_as_the_prometheus_api_writes_them() -> None:
    cases = {1.0: "1", 0.1: "0.1", -0.0: "-0", 1e21: "1000000000000000000000",
             1.5e-7: "0.00000015", math.inf: "+Inf", -math.inf: "-Inf"}  # fmt: skip
    assert {v: format_value(v) for v in cases} == cases
    assert format_value(math.nan) == "NaN"
    assert format_time(1_700_000_000_000) == 1_700_000_000
    assert format_time(1_700_000_000_781) == 1_700_000_000.781


def test_matchers_treat_a_missing_label_as_empty_and_anchor_re2_regexes() -> None:
    assert Matcher("env", MatchOp.EQUAL, "").matches("")
    assert not Matcher("env", MatchOp.NOT_EQUAL, "").matches("")
    assert Matcher("i", MatchOp.RE, "a|b").matches("a")
    assert not Matcher("i", MatchOp.RE, "a|b").matches("ab")  # anchored both ends
    assert Matcher("i", MatchOp.RE, "[[:alpha:]]+").matches("abc")  # RE2 classes
    with pytest.raises(BadData, match="invalid regular expression"):
        Matcher("i", MatchOp.RE, "(?=x)")


def test_parse_tells_the_kind_of_an_expression() -> None:
    kinds = {"1 + 1": "scalar", "c": "vector", "c[5m]": "matrix", '"x"': "string",
             "rate(c[5m])": "vector", "c[10m:1m]": "matrix", "scalar(c)": "scalar"}  # fmt: skip
    assert {q: parse(q).kind for q in kinds} == kinds
    with pytest.raises(BadData):
        parse("sum(")


def test_a_series_of_huge_values_costs_its_neighbours_no_precision() -> None:
    memory = MemorySource()
    times = MS + np.arange(0, 600_000, 15_000) + 7
    memory.add({"__name__": "a", "x": "1"}, times, np.full(len(times), 1e17))
    small = 0.1 * np.arange(1, len(times) + 1)
    memory.add({"__name__": "b", "x": "2"}, times, small)
    together = evaluate_instant('sum_over_time({__name__=~"a|b"}[5m])', T + 600, memory)
    window = small[(times >= MS + 300_000) & (times <= MS + 600_000)]
    assert together.samples[1].value == pytest.approx(math.fsum(window), rel=1e-12)


def test_series_selectors_give_their_matchers() -> None:
    assert selector_matchers('up{job=~"a.*"}') == (
        Matcher("__name__", MatchOp.EQUAL, "up"),
        Matcher("job", MatchOp.RE, "a.*"),
    )
    for not_a_selector in ("sum(up)", "up[5m]", "up offset 5m", "1"):
        with pytest.raises(BadData):
            selector_matchers(not_a_selector)
