"""The parser adapter: ``promql-parser``'s AST turned into the engine's own small nodes.

``promql-parser`` (a binding of a Rust parser that follows Prometheus 2.45 and later)
parses and type-checks; this module converts its nodes into frozen dataclasses with
durations in milliseconds and a ``kind`` (``scalar``, ``vector``, ``matrix``, ``string``),
and refuses, with a clear :class:`Unsupported` error, what Prometheus 2.42 does not have
or this engine does not evaluate (native histograms, later language additions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import promql_parser as pp

from dashapp.core.promql.errors import BadData, Unsupported
from dashapp.core.promql.labels import NAME
from dashapp.core.promql.source import Matcher, MatchOp

# Prometheus 2.42 has holt_winters (renamed double_exponential_smoothing in 3.0); the
# parser only knows the new name, so teach it the old one (idempotent, process-wide).
pp.register_extra_functions(
    [pp.Function("holt_winters", [pp.ValueType.Matrix, pp.ValueType.Scalar,
                                  pp.ValueType.Scalar], pp.ValueType.Vector)]
)  # fmt: skip

RANGE_FUNCTIONS = frozenset(
    [
        "rate",
        "irate",
        "increase",
        "delta",
        "idelta",
        "deriv",
        "predict_linear",
        "holt_winters",
        "resets",
        "changes",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "quantile_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "last_over_time",
        "present_over_time",
        "absent_over_time",
    ]
)
INSTANT_FUNCTIONS = frozenset(
    [
        "abs",
        "absent",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atanh",
        "ceil",
        "clamp",
        "clamp_max",
        "clamp_min",
        "cos",
        "cosh",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "deg",
        "exp",
        "floor",
        "histogram_quantile",
        "hour",
        "label_join",
        "label_replace",
        "ln",
        "log10",
        "log2",
        "minute",
        "month",
        "pi",
        "rad",
        "round",
        "scalar",
        "sgn",
        "sin",
        "sinh",
        "sort",
        "sort_desc",
        "sqrt",
        "tan",
        "tanh",
        "time",
        "timestamp",
        "vector",
        "year",
    ]
)
NATIVE_HISTOGRAM_FUNCTIONS = frozenset(
    [
        "histogram_count",
        "histogram_sum",
        "histogram_fraction",
        "histogram_avg",
        "histogram_stddev",
        "histogram_stdvar",
    ]
)
AGGREGATIONS = frozenset(
    [
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ]
)
ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "^", "atan2"})
COMPARISON = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPERATORS = frozenset({"and", "or", "unless"})
# The binding's enums are not hashable: key these tables by their text.
_KINDS = {
    "ValueType.Scalar": "scalar",
    "ValueType.Vector": "vector",
    "ValueType.Matrix": "matrix",
    "ValueType.String": "string",
}
_OPS = {
    "MatchOp.Equal": MatchOp.EQUAL,
    "MatchOp.NotEqual": MatchOp.NOT_EQUAL,
    "MatchOp.Re": MatchOp.RE,
    "MatchOp.NotRe": MatchOp.NOT_RE,
}


@dataclass(frozen=True)
class At:
    """An ``@`` modifier: a fixed time (ms), or the query's ``start()`` / ``end()``."""

    kind: str  # "at", "start" or "end"
    time: float = 0.0


@dataclass(frozen=True)
class NumberLiteral:
    """A number: ``1``, ``1.5e3``, ``0x1f``, ``Inf``, ``NaN``."""

    value: float
    kind = "scalar"


@dataclass(frozen=True)
class StringLiteral:
    """A string: ``"text"``."""

    value: str
    kind = "string"


@dataclass(frozen=True)
class Selector:
    """An instant vector selector ``foo{a="b"} offset 5m @ 100``."""

    matchers: tuple[Matcher, ...]
    offset: float
    at: At | None
    kind = "vector"


@dataclass(frozen=True)
class RangeSelector:
    """A range vector selector ``foo[5m]``."""

    selector: Selector
    range: float
    kind = "matrix"


@dataclass(frozen=True)
class Subquery:
    """``expr[range:step] offset o @ t``; ``step`` 0 means the default subquery step."""

    expr: Node
    range: float
    step: float
    offset: float
    at: At | None
    kind = "matrix"


@dataclass(frozen=True)
class Aggregate:
    """``op by|without (labels) (param, expr)``."""

    op: str
    expr: Node
    param: Node | None
    grouping: tuple[str, ...]
    without: bool
    kind = "vector"


@dataclass(frozen=True)
class Binary:
    """``lhs op rhs`` with its vector matching (``on``/``ignoring``, ``group_x``)."""

    op: str
    lhs: Node
    rhs: Node
    return_bool: bool
    card: str  # one-to-one, many-to-one, one-to-many, many-to-many
    on: bool
    matching: tuple[str, ...]
    include: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Negation:
    """Unary minus."""

    expr: Node
    kind: str


@dataclass(frozen=True)
class Call:
    """A function call with its arguments."""

    name: str
    args: tuple[Node, ...]
    kind: str


Node = (
    NumberLiteral | StringLiteral | Selector | RangeSelector | Subquery | Aggregate | Binary
    | Negation | Call
)  # fmt: skip

_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`|#[^\n]*')
_NEGATIVE_AT = re.compile(r"@\s*-")


def parse(text: str) -> Node:
    """Parse a PromQL expression; :class:`BadData` if it is not valid PromQL."""
    if _NEGATIVE_AT.search(_STRINGS.sub('""', text)):
        raise Unsupported("negative @ timestamps are not supported")
    try:
        tree = pp.parse(text)
    except ValueError as error:
        raise BadData(f"parse error: {error}") from None
    return _convert(tree)


def selector_matchers(text: str) -> tuple[Matcher, ...]:
    """The label matchers of a series selector (the ``match[]`` of the series APIs).

    :class:`BadData` unless ``text`` is a plain selector such as ``up{job=~"a.*"}``.
    """
    node = parse(text)
    if not isinstance(node, Selector) or node.offset or node.at is not None:
        raise BadData(f"not a series selector: {text}")
    return node.matchers


def _ms(delta: timedelta | None) -> float:
    return 0.0 if delta is None else float(round(delta / timedelta(milliseconds=1)))


def _at(modifier: pp.AtModifier | None) -> At | None:
    if modifier is None:
        return None
    if modifier.type == pp.AtModifierType.Start:
        return At("start")
    if modifier.type == pp.AtModifierType.End:
        return At("end")
    return At("at", float(round(modifier.at.timestamp() * 1000)))


def _selector(node: pp.VectorSelector) -> Selector:
    if node.matchers.or_matchers:
        raise Unsupported("'or' between label matchers (Prometheus 3) is not supported")
    matchers = [Matcher(m.name, _OPS[str(m.op)], m.value) for m in node.matchers.matchers]
    if node.name is not None and not any(m.name == NAME for m in matchers):
        matchers.insert(0, Matcher(NAME, MatchOp.EQUAL, node.name))
    return Selector(tuple(matchers), _ms(node.offset), _at(node.at))


def _convert(node: pp.Expr) -> Node:
    if isinstance(node, pp.ParenExpr):
        return _convert(node.expr)
    if isinstance(node, pp.NumberLiteral):
        return NumberLiteral(float(node.val))
    if isinstance(node, pp.StringLiteral):
        return StringLiteral(node.val)
    if isinstance(node, pp.VectorSelector):
        return _selector(node)
    if isinstance(node, pp.MatrixSelector):
        return RangeSelector(_selector(node.vector_selector), _ms(node.range))
    if isinstance(node, pp.SubqueryExpr):
        inner = _convert(node.expr)
        return Subquery(inner, _ms(node.range), _ms(node.step), _ms(node.offset), _at(node.at))
    if isinstance(node, pp.UnaryExpr):
        inner = _convert(node.expr)
        return Negation(inner, inner.kind)
    if isinstance(node, pp.AggregateExpr):
        return _aggregate(node)
    if isinstance(node, pp.BinaryExpr):
        return _binary(node)
    if isinstance(node, pp.Call):
        return _call(node)
    raise Unsupported(f"unsupported PromQL expression: {node.prettify()}")


def _aggregate(node: pp.AggregateExpr) -> Aggregate:
    op = str(node.op)
    if op not in AGGREGATIONS:
        raise Unsupported(f"aggregation {op}() is not supported (not in Prometheus 2.42)")
    param = None if node.param is None else _convert(node.param)
    modifier = node.modifier
    grouping: tuple[str, ...] = ()
    without = False
    if modifier is not None:
        grouping = tuple(sorted(set(modifier.labels)))
        without = modifier.type == pp.AggModifierType.Without
    return Aggregate(op, _convert(node.expr), param, grouping, without)


_CARDS = {
    "VectorMatchCardinality.OneToOne": "one-to-one",
    "VectorMatchCardinality.ManyToOne": "many-to-one",
    "VectorMatchCardinality.OneToMany": "one-to-many",
    "VectorMatchCardinality.ManyToMany": "many-to-many",
}


def _binary(node: pp.BinaryExpr) -> Binary:
    op = str(node.op)
    lhs, rhs = _convert(node.lhs), _convert(node.rhs)
    kind = "scalar" if lhs.kind == rhs.kind == "scalar" else "vector"
    modifier = node.modifier
    card = "many-to-many" if op in SET_OPERATORS else "one-to-one"
    on, matching, include, return_bool = False, (), (), False
    if modifier is not None:
        fill = modifier.fill_values
        if fill is not None and (fill.lhs is not None or fill.rhs is not None):
            raise Unsupported("fill modifiers of binary operators are not supported")
        card = _CARDS[str(modifier.card)] if op not in SET_OPERATORS else "many-to-many"
        return_bool = bool(modifier.return_bool)
        if modifier.matching is not None:
            on = modifier.matching.type == pp.LabelModifierType.Include
            matching = tuple(sorted(set(modifier.matching.labels)))
        include = tuple(modifier.group_labels or ())
    return Binary(op, lhs, rhs, return_bool, card, on, matching, include, kind)


def _call(node: pp.Call) -> Call:
    name = node.func.name
    if name in NATIVE_HISTOGRAM_FUNCTIONS:
        raise Unsupported(f"{name}() needs native histograms, which are not supported")
    if name not in RANGE_FUNCTIONS and name not in INSTANT_FUNCTIONS:
        raise Unsupported(f"function {name}() is not supported (not in Prometheus 2.42)")
    args = tuple(_convert(arg) for arg in node.args)
    return Call(name, args, _KINDS[str(node.func.return_type)])
