"""PromQL compliance: every corpus query, on a real Prometheus 2.42 and on our engine.

One Prometheus for the module (``promtool`` blocks plus a remote-written tail, see
``tests/promql/prometheus.py``), asked every query concurrently up front; our engine
reads the same samples from a :class:`MemorySource`. A query passes when its instant
answers at every corpus time and its range answers over every corpus range agree in
label sets, timestamps and values (relative 1e-5, NaN equals NaN), or both are errors of
the same type. The count is printed at the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from dashapp.core.promql import (
    BadData,
    MemorySource,
    PromQLError,
    evaluate_instant,
    evaluate_range,
)
from tests.conftest import service_missing
from tests.promql import compare, corpus, fixture, prometheus, tally

Mode = tuple  # ("instant", time) or ("range", start, end, step)
MODES: list[Mode] = [("instant", t) for t in corpus.INSTANT_TIMES] + [
    ("range", *r) for r in corpus.RANGES
]
ORDERED = ("sort(", "sort_desc(", "topk(", "bottomk(")
PROMETHEUS_URL = "url"  # the server's address, kept beside its answers
T0 = corpus.T


@pytest.fixture(scope="module")
def series() -> list[fixture.FixtureSeries]:
    return fixture.build()


@pytest.fixture(scope="module")
def source(series) -> MemorySource:
    memory = MemorySource()
    for item in series:
        memory.add(item.labels, item.times, item.values)
    return memory


def _ask(session: requests.Session, url: str, query: str, mode: Mode) -> dict:
    if mode[0] == "instant":
        params = {"query": query, "time": mode[1]}
        answer = session.post(f"{url}/api/v1/query", data=params, timeout=30)
    else:
        params = {"query": query, "start": mode[1], "end": mode[2], "step": mode[3]}
        answer = session.post(f"{url}/api/v1/query_range", data=params, timeout=30)
    return answer.json()


@pytest.fixture(scope="module")
def expected(series) -> Iterator[dict[tuple[str, Mode], compare.Normal]]:
    """Prometheus' answer to every (query, mode), from one server for the module."""
    binary, promtool = prometheus.binary("prometheus"), prometheus.binary("promtool")
    if binary is None or promtool is None:
        service_missing("prometheus and promtool are not installed (Debian package)")
    with prometheus.serve(series, binary, promtool) as url:
        asked = [q for _, q in corpus.queries()] + list(corpus.GAPS)
        keys = [(q, mode) for q in asked for mode in MODES]
        with requests.Session() as session, ThreadPoolExecutor(6) as pool:
            answers = pool.map(lambda key: _ask(session, url, *key), keys)
            found = {key: compare.from_prometheus(a) for key, a in zip(keys, answers, strict=True)}
            yield {**found, PROMETHEUS_URL: url}


def _ours(source: MemorySource, query: str, mode: Mode) -> compare.Normal:
    try:
        if mode[0] == "instant":
            result = evaluate_instant(query, mode[1], source)
        else:
            result = evaluate_range(query, mode[1], mode[2], mode[3], source)
    except PromQLError as error:
        return compare.from_engine(error)
    return compare.from_engine(result)


@pytest.mark.parametrize(("category", "query"), corpus.queries(),
                         ids=[q for _, q in corpus.queries()])  # fmt: skip
def test_answers_as_prometheus_does(expected, source, category: str, query: str) -> None:
    ordered = query.startswith(ORDERED)
    problems = []
    for mode in MODES:
        problem = compare.difference(expected[(query, mode)], _ours(source, query, mode), ordered)
        if problem:
            problems.append(f"{mode}: {problem}")
    tally.record(category, not problems, len(MODES))
    assert not problems, "\n".join(problems)


def _step_answers(source: MemorySource, query: str, mode: Mode) -> list[str]:
    """Steps of our range answer that differ from our instant answer at that step."""
    matrix = evaluate_range(query, mode[1], mode[2], mode[3], source)
    problems = []
    for series in matrix.series:
        for time, value in series.points():
            instant = {tuple(sorted(s.metric.items())): s.value
                       for s in evaluate_instant(query, time / 1000, source).samples}  # fmt: skip
            mine = instant.get(tuple(sorted(series.metric.items())))
            if mine is None or not compare.same_value(mine, value):
                problems.append(f"{series.metric} at {time}: range {value}, instant {mine}")
    return problems


@pytest.mark.parametrize("query", list(corpus.GAPS))
def test_deliberate_gaps_behave_as_documented(expected, source, query: str) -> None:
    """Each listed gap: Prometheus 2.42 answers otherwise, and we answer as documented."""
    kind, shown, _ = corpus.GAPS[query]
    answers = [expected[(query, mode)] for mode in MODES]
    if kind == "pinned":
        for mode, answer in zip(MODES, answers, strict=True):
            if mode[0] == "instant":
                assert compare.difference(answer, _ours(source, query, mode)) is None
            else:
                assert not _step_answers(source, query, mode)
        assert any(
            compare.difference(a, _ours(source, query, m))
            for a, m in zip(answers, MODES, strict=True)
        )
    elif kind == "unsupported":
        assert all(a[0] != "error" for a in answers)  # Prometheus answers these
        for mode in MODES:
            ours = _ours(source, query, mode)
            assert ours[0] == "error" and ours[1] == "bad_data" and shown in ours[2]
    else:
        assert all(a[0] == "error" for a in answers)  # Prometheus 2.42 refuses these
        for mode in MODES:
            assert _ours(source, query, mode) == _ours(source, shown, mode)


REFUSED_RANGES = [(T0, T0 + 11_001, 1), (T0, T0 + 60, 0), (T0 + 60, T0, 15)]


@pytest.mark.parametrize(("start", "end", "step"), REFUSED_RANGES)
def test_range_refusals_match_prometheus(expected, source, start, end, step) -> None:
    """Too many points, a zero step, an end before the start: bad_data, same words."""
    url = expected[PROMETHEUS_URL]
    params = {"query": "up", "start": start, "end": end, "step": step}
    answer = requests.post(f"{url}/api/v1/query_range", data=params, timeout=30).json()
    assert answer["status"] == "error" and answer["errorType"] == "bad_data"
    with pytest.raises(BadData) as refused:
        evaluate_range("up", start, end, step, source)
    assert str(refused.value) in answer["error"]
