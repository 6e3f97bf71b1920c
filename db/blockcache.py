"""The block cache's machinery: generation counters, cached pieces, answers cached whole.

A write changes the counters of the blocks it touches (:func:`mark_written`); a read
plans its pieces (:mod:`db.blocks`), fetches their counters and cached answers in one
round trip each (:class:`Lookup`, :func:`cached_pieces`) and computes only the missing
pieces, contiguous ones together. :mod:`db.cached` builds the panel reads on this.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from dashapp.core.results import Block, SeriesInfo
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from db import blocks, invalidations, tsdb
from db.blocks import Piece
from db.cache import cache, process_memo
from db.engine import database
from db.tsdb import query as engine
from db.tsdb.query import Groups

log = logging.getLogger(__name__)
CATALOG = "*catalog*"  # the generation of the series catalog itself
DEFAULT_FRESHNESS = timedelta(minutes=5)
DEFAULT_BLOCK_TIMEOUT = 86400
CLAIM_SECONDS = 30
"""How long a claim to refresh one answer in the background is kept (it only has to
outlive the answer's few seconds of being served stale)."""


def freshness() -> timedelta:
    """How far back points may still arrive in the normal course (``CACHE_FRESHNESS``)."""
    seconds = current_app.config.get("CACHE_FRESHNESS")
    return DEFAULT_FRESHNESS if seconds is None else timedelta(seconds=float(seconds))


def block_timeout() -> int:
    return int(current_app.config.get("CACHE_BLOCK_TIMEOUT") or DEFAULT_BLOCK_TIMEOUT)


def mark_written(
    metrics_written: Iterable[str],
    catalog_changed: bool = True,
    written: blocks.Written | None = None,
    *,
    everything: bool = False,
) -> None:
    """Invalidate cached answers after a write commits: the blocks holding the
    ``written`` points (see :func:`db.blocks.touched`), answers cached whole for these
    metric names, every block of theirs if ``everything`` (bulk loads), and the catalog
    (picker choices, variable values) when series may have been added.

    Counters are random tokens with a lifetime twice a block's, so an expired counter
    can never bring back an answer cached under an older value.
    """
    names = set(metrics_written) | {name for name, _, _ in written or ()}
    keys, tables = blocks.written_counters(written or set())
    keys |= {blocks.tail_key(name) for name in names}
    if everything:
        keys |= {blocks.reset_key(name) for name in names}
    if catalog_changed:
        keys.add(blocks.tail_key(CATALOG))
    if not cache.cache.set_counters(keys, tables, secrets.token_hex(8), 2 * block_timeout()):
        invalidations.record(names | ({CATALOG} if catalog_changed else set()))


def mark_dropped(metrics_dropped: Iterable[str]) -> None:
    """Invalidate every cached answer of these metrics after retention dropped some of
    their data (their reset counters key all their blocks), and the catalog (how far back
    series reach)."""
    names = set(metrics_dropped)
    if not names:
        return
    keys = {key for name in names for key in (blocks.reset_key(name), blocks.tail_key(name))}
    keys.add(blocks.tail_key(CATALOG))
    if not cache.cache.set_counters(keys, {}, secrets.token_hex(8), 2 * block_timeout()):
        invalidations.record(names | {CATALOG})


def data_generation(metric: str) -> str:
    """A token that changes whenever points of ``metric`` are written."""
    key = blocks.tail_key(metric)
    return str(existing_counter(key, cache.get(key)))


def existing_counter(key: str, value: str | None) -> str | None:
    """``value``, the counter read at ``key``, or a new token stored there if it had none
    (never written, or expired): answers kept under a counter then stay valid only until
    the next change, never across an expiry (None -> token -> None would bring them back).
    None only when the cache is unreachable."""
    if value is not None:
        return value
    token = secrets.token_hex(8)
    if cache.add(key, token, timeout=2 * block_timeout()):
        return token
    return cache.get(key)


def answer_key(kind: str, parts: Any) -> str:
    return f"{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def catalog_cached(kind: str, parts: tuple[Any, ...], compute: Any) -> Any:
    """Return the answer cached for ``parts`` while the series catalog is unchanged, or
    compute it in a read transaction bounded by the statement timeout (picker choices,
    variable values: never served stale, as a new series changes the catalog). The
    process keeps the answers it used last (see :func:`catalog_cached_last`), so while
    the catalog is unchanged only its counter is fetched."""
    if CATALOG in invalidations.outstanding():  # a new series may be missing from it
        with database.read_session() as session:
            return compute(session)
    generation = data_generation(CATALOG)
    memo = process_memo("dashapp.catalog")
    kept = memo.get((kind, parts))
    if generation != "None" and kept is not None and kept[0] == generation:
        return kept[1]
    key = answer_key(kind, (parts, generation))
    result = cache.get(key)
    if result is None:
        with database.read_session() as session:
            result = compute(session)
        cache.set(key, result)
    memo[(kind, parts)] = (generation, result)
    return result


def catalog_cached_last(kind: str, parts: tuple[Any, ...]) -> Any:
    """The answer :func:`catalog_cached` last returned for ``parts`` in this process,
    whatever the catalog is now (None: none yet)."""
    kept = process_memo("dashapp.catalog").get((kind, parts))
    return None if kept is None else kept[1]


class Lookup:
    """What a blocked read needs before its pieces: the generation counters of the pieces
    and of the catalog; the metric's series and the groups a query shows of them.

    Series lists and groups are kept in the process (and the series list in the cache
    too) with the catalog counter they were read under, and used only while that
    counter is unchanged: a new series changes it (:func:`mark_written`). The counters
    are fetched in one round trip with those of the groups the process showed last for
    the same query (recent blocks of a few series are keyed by these series' own
    counters); a second trip fetches the rest only if the groups changed.
    """

    def __init__(self, metric: str, pieces: list[Piece]) -> None:
        self.metric, self.pieces = metric, pieces
        self.values: dict[str, Any] = {}
        self.counters: list[list[str]] = []
        self.catalog: str | None = None
        # Invalidations of this metric (or the catalog) that have not reached the cache
        # yet: read past it (see db.invalidations).
        missed = invalidations.outstanding()
        self.bypass = metric in missed or CATALOG in missed

    def groups(
        self, spec: Query, variables: Mapping[str, Sequence[str]], limit: int
    ) -> tuple[Groups, int]:
        """The groups ``spec`` shows (see :func:`db.tsdb.query.matching_groups`), with the
        counters of every piece fetched."""
        memo = process_memo("dashapp.groups")
        chosen = tuple(sorted((name, tuple(values)) for name, values in variables.items()))
        key = (spec.metric, spec.source, tuple(sorted(spec.labels.items())),
               tuple(spec.group_by), chosen, limit)  # fmt: skip
        kept = memo.get(key)
        guess = kept[1][0] if kept is not None else None
        catalog_key = blocks.tail_key(CATALOG)
        self._fetch(guess, catalog_key)
        self.catalog = (
            None if self.bypass else existing_counter(catalog_key, self.values[catalog_key])
        )
        if self.catalog is not None and kept is not None and kept[0] == self.catalog:
            return kept[1]
        found = engine.matching_groups(None, spec, variables, limit, self._series())
        memo[key] = (self.catalog, found)
        if found[0] != guess:
            self._fetch(found[0])
        return found

    def _fetch(self, shown: Groups | None, *extra: str) -> None:
        """Fetch the counters of every piece for the groups ``shown`` (None: not known
        yet) that are not fetched already, and the ``extra`` keys, in one round trip."""
        members = None if shown is None else sorted(i.id for _, infos in shown for i in infos)
        self.counters = [blocks.piece_generation_keys(self.metric, p, members) for p in self.pieces]
        names = {name for keys in self.counters for name in keys} - self.values.keys()
        plain = [*sorted(name for name in names if "#" not in name), *extra]
        tables: dict[str, list[str]] = {}
        for name in sorted(names - set(plain)):
            table, sid = name.split("#")
            tables.setdefault(table, []).append(sid)
        found, fields = cache.cache.get_many_and_fields(plain, list(tables.items()))
        self.values.update(zip(plain, found, strict=True))
        for (table, sids), values in zip(tables.items(), fields, strict=True):
            self.values.update((f"{table}#{sid}", v) for sid, v in zip(sids, values, strict=True))

    def _series(self) -> list[SeriesInfo]:
        kept = process_memo("dashapp.series").get(self.metric)
        if self.catalog is not None and kept is not None and kept[0] == self.catalog:
            return kept[1]
        key = "sr:" + blocks.digest(self.metric)
        entry = None if self.catalog is None else cache.get(key)
        if isinstance(entry, tuple) and entry[0] == self.catalog:
            series = entry[1]
        else:
            with database.read_session() as session:
                series = tsdb.find_series(session, self.metric)
            cache.set(key, (self.catalog, series))
        process_memo("dashapp.series")[self.metric] = (self.catalog, series)
        return series

    def keys(self, kind: str, identity: Any, pieces: list[Piece]) -> PieceKeys:
        """The cache keys of each piece's answer: under its counters' values, and for a
        recent piece also its latest answer's, whatever the counters (see
        :func:`cached_pieces`)."""
        if self.bypass:  # keys no answer is cached under: every piece is computed
            identity = (identity, secrets.token_hex(8))
        exact = [
            answer_key(kind, (identity, p.start, p.end, [self.values[n] for n in c]))
            for p, c in zip(pieces, self.counters, strict=True)
        ]
        latest = [
            answer_key(kind, ("latest", identity, p.start, p.end)) if p.fresh else None
            for p in pieces
        ]
        return PieceKeys(exact, latest)


def tail_grace(seconds: float | None = None) -> float:
    """How old a recent piece's latest answer may be and still be served although its
    counters changed: ``CACHE_TAIL_GRACE``, or ``seconds`` if longer (an auto-refresh
    tick's). 0 (the default outside ticks): never stale."""
    return max(float(current_app.config.get("CACHE_TAIL_GRACE") or 0), seconds or 0)


@dataclass(frozen=True)
class PieceKeys:
    """Each piece's cache key under its counters (``exact``), and for recent pieces the
    key of their latest answer, kept with the time it was computed (``latest``)."""

    exact: list[str]
    latest: list[str | None]


@dataclass(frozen=True)
class Computed:
    """One piece's cached payload: its data, where it was read from, what it cost."""

    data: Any
    source: str
    elapsed_ms: float
    sql: str = ""


Compute = Callable[[Any, TimeRange, list[Piece]], list[Computed]]
"""Computes the payloads of contiguous pieces over their union, in one session."""


def cached_pieces(
    piece_keys: PieceKeys,
    pieces: list[Piece],
    compute: Compute,
    job: Callable[[], bytes],
    grace: float | None = None,
) -> list[tuple[Piece, Computed, bool]]:
    """Each piece's payload from the cache or computed (contiguous misses together),
    and whether it was a cache hit.

    A recent piece whose counters changed may still be served its latest answer if that
    is at most ``grace`` seconds old (see :func:`tail_grace`): everyone asking meanwhile
    shares one recomputation. On an auto-refresh tick (``grace`` given), one up to
    ``LIVE_STALE_LIMIT`` seconds old is served too and recomputed in the background, so
    a viewer's tick does not wait for it; the next tick shows what it found. ``job``
    encodes the read for a worker to run again (see :func:`_refresh_later`).
    """
    keys = piece_keys.exact
    stale_limit = (
        float(current_app.config.get("LIVE_STALE_LIMIT") or 0) if grace is not None else 0.0
    )
    grace = tail_grace(grace)
    # With a grace, the recent pieces' latest answers come in the same round trip.
    recent = [i for i, key in enumerate(piece_keys.latest) if key is not None] if grace else []
    fetched = cache.get_many(*keys, *(piece_keys.latest[i] for i in recent))
    found: list[Any] = list(fetched[: len(keys)])
    stale: dict[int, float] = {}  # index -> when its served answer was computed
    for index, entry in zip(recent, fetched[len(keys) :], strict=True):
        if found[index] is not None or not isinstance(entry, tuple):
            continue
        age = time.time() - entry[0]
        if age <= max(grace, stale_limit):
            found[index] = entry[1]
            if age > grace:
                stale[index] = entry[0]
    missing = [i for i, hit in enumerate(found) if hit is None]
    if missing:
        for index, payload in _compute_and_store(piece_keys, pieces, missing, compute).items():
            found[index] = payload
    if stale:
        _refresh_later(piece_keys, pieces, stale, compute, job)
    hits = set(range(len(pieces))) - set(missing)
    return [(p, found[i], i in hits) for i, p in enumerate(pieces)]


def _compute_and_store(
    piece_keys: PieceKeys, pieces: list[Piece], missing: list[int], compute: Compute
) -> dict[int, Computed]:
    """Compute these pieces (contiguous ones together) in one read session and cache them:
    recent ones briefly, with their latest answer; older ones for long."""
    found: dict[int, Computed] = {}
    with database.read_session() as session:
        for run in runs(pieces, missing, tsdb.window_of(datetime.now(UTC))):
            span = TimeRange(pieces[run[0]].start, pieces[run[-1]].end)
            found.update(zip(run, compute(session, span, [pieces[i] for i in run]), strict=True))
    computed_at = time.time()
    keys, latest = piece_keys.exact, piece_keys.latest
    fresh = [i for i in missing if pieces[i].fresh]
    tails = {keys[i]: found[i] for i in fresh}
    tails.update((latest[i], (computed_at, found[i])) for i in fresh)
    olds = {keys[i]: found[i] for i in missing if not pieces[i].fresh}
    if tails:
        cache.set_many(tails)
    if olds:
        cache.set_many(olds, timeout=block_timeout())
    return found


def _refresh_later(
    piece_keys: PieceKeys,
    pieces: list[Piece],
    stale: dict[int, float],
    compute: Compute,
    job: Callable[[], bytes],
) -> None:
    """Have these recent pieces recomputed and stored behind the request: by a worker
    when one listens (``job`` re-runs the whole read there, off the interpreter lock of
    this process's requests), else by a background thread of this process.

    ``stale`` maps each piece to when the answer it was served had been computed. One
    refresh of that answer runs at a time in this process, and one among all processes
    sharing the cache: each claims it first. The claim outlives the refresh, so a
    process that read that answer just before the new one was stored does not have it
    recomputed again; a claimer that dies leaves the answer to age past
    ``LIVE_STALE_LIMIT``, after which ticks compute it themselves.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions.get("dashapp.refresher")
    if state is None:
        state = app.extensions.setdefault("dashapp.refresher", _Refresher())
    with state.lock:
        todo = [i for i in stale if piece_keys.latest[i] not in state.running]
        state.running.update(piece_keys.latest[i] for i in todo)
    if not todo:
        return
    claims = {i: f"refreshing:{piece_keys.latest[i]}@{stale[i]:.6f}" for i in todo}

    def run() -> None:
        try:
            with app.app_context():
                queued = cache.cache.queue_refresh(list(claims.values()), job(), CLAIM_SECONDS)
                if queued is None:  # no worker listens: refresh here
                    claimed = [i for i in todo if cache.add(claims[i], 1, timeout=CLAIM_SECONDS)]
                    if claimed:
                        _compute_and_store(piece_keys, pieces, claimed, compute)
        except Exception:  # the next tick computes them itself once they are too old
            log.warning("background refresh of recent blocks failed", exc_info=True)
        finally:
            with state.lock:
                state.running.difference_update(piece_keys.latest[i] for i in todo)

    state.pool.submit(run)


class _Refresher:
    """The background refreshes of one app in this process: a small thread pool and the
    latest-answer keys being recomputed."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dashapp-refresh")
        self.lock = threading.Lock()
        self.running: set[str | None] = set()


def runs(pieces: list[Piece], missing: list[int], today: datetime) -> list[list[int]]:
    """Missing pieces grouped into runs of adjacent blocks, each computed with one query.
    Fresh pieces run apart from settled ones (they read pending hours as raw points,
    which old blocks need not), and pieces of closed days apart from ``today``'s: those
    are compacted, and a range without hot rows is aggregated in process
    (:mod:`db.tsdb.cold_statements`)."""
    found: list[list[int]] = []
    for index in missing:
        piece, previous = pieces[index], found[-1][-1] if found else None
        joins = (
            previous == index - 1
            and piece.fresh == pieces[previous].fresh
            and (piece.start < today) == (pieces[previous].start < today)
        )
        if joins:
            found[-1].append(index)
        else:
            found.append([index])
    return found


def blocks_info(parts: list[tuple[Piece, Computed, bool]], window: TimeRange) -> tuple:
    return tuple(
        Block(
            max(piece.start, window.start), min(piece.end, window.end),
            "tail" if piece.fresh else "block", hit, payload.source,
            0.0 if hit else payload.elapsed_ms,
        )
        for piece, payload, hit in parts
    )  # fmt: skip


def source_of(parts: list[tuple[Piece, Computed, bool]]) -> str:
    sources = list(dict.fromkeys(payload.source for _, payload, _ in parts))
    return " + ".join(sources) if sources else "points"


def horizon() -> datetime:
    return datetime.now(UTC) - freshness()
