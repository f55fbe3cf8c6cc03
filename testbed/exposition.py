"""Metric values of the gateway double and their rendering as gateway 0.1.0 renders them.

The families, their order and their HELP/TYPE come from the catalog's exposed metrics; the
values and the number formatting mimic the gateway, which builds the text with JavaScript
template strings: plain numbers print as JavaScript prints them (``0``, not ``0.0``), and three
metrics go through ``toFixed`` (see ``_FIXED_DECIMALS``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from infra.metrics.catalog import Metric, by_name, exposed

# Values copied from tests/fixtures/gateway-metrics.prom; everything else starts at 0.
FIXTURE_VALUES: Mapping[str, float] = {
    "friday_memory_used_mb": 37.49,
    "friday_blocked_requests_total": 1,
    "friday_rate_limit_hits_total": 1,
    "friday_audit_entries_total": 11,
    "friday_audit_chain_valid": 1,
    "process_heap_bytes": 39345256,
    "process_rss_bytes": 115843072,
    "friday_uptime_seconds": 44,
}
QUANTILES = ("0.5", "0.95", "0.99")
_FIXED_DECIMALS = {
    "friday_memory_used_mb": 2,
    "friday_cost_usd_today": 4,
    "friday_api_latency_avg_ms": 2,
}
Number = int | float


def js_number(x: float) -> str:
    """``String(x)`` of JavaScript for a double."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))  # also turns -0.0 into "0", as JavaScript does
    if 1e-6 <= abs(x) < 1e21:
        # Python's repr switches to exponents below 1e-4, JavaScript only below 1e-6; the
        # shortest round-trip digits are the same, so re-print them positionally.
        return format(Decimal(repr(x)), "f")
    mantissa, exponent = repr(x).split("e")
    return f"{mantissa}e{'-' if exponent.startswith('-') else '+'}{exponent.lstrip('+-0')}"


def js_to_fixed(x: float, digits: int) -> str:
    """``x.toFixed(digits)`` of JavaScript (exact value, ties away from zero)."""
    if not math.isfinite(x) or abs(x) >= 1e21:
        return js_number(x)
    if x == 0:
        x = 0.0  # toFixed prints -0 without a sign
    quantum = Decimal(1).scaleb(-digits)
    return format(Decimal(x).quantize(quantum, rounding=ROUND_HALF_UP), "f")


def _check_number(name: str, value: object) -> float:
    # bool is an int subclass; a JSON true is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: value must be a number, got {value!r}")
    return float(value)


def _check_label_value(value: str) -> str:
    # The gateway does not escape label values; rather than mimic broken output, refuse.
    if not value or any(c in value for c in '"\\\n'):
        raise ValueError(f"label value {value!r} must be non-empty without quotes, backslashes or newlines")
    return value


class MetricValues:
    """Thread-safe current values of every family the double exposes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: tuple[Metric, ...] = exposed()
        self._scalars: dict[str, float] = {
            m.name: float(FIXTURE_VALUES.get(m.name, 0)) for m in self._families if not m.labels
        }
        # label value -> sample value, in insertion order (the gateway prints
        # Object.entries order). Quantiles exist from the start, statuses do not.
        self._labelled: dict[str, dict[str, float]] = {
            m.name: ({q: 0.0 for q in QUANTILES} if m.labels == ("quantile",) else {})
            for m in self._families
            if m.labels
        }

    def _family(self, name: str) -> Metric:
        metric = by_name(name)
        if not metric.exposed_by_gateway:
            raise KeyError(f"metric {name!r} is not exposed by gateway 0.1.0, so the double does not have it")
        return metric

    def update(self, values: Mapping[str, object]) -> None:
        """Set several values at once, all or nothing.

        Unlabelled metrics take a number; labelled ones (friday_tasks_by_status,
        friday_tasks_duration_ms) take a mapping of label value to number, merged into the
        existing samples.
        """
        scalars: dict[str, float] = {}
        labelled: dict[str, dict[str, float]] = {}
        for name, value in values.items():
            metric = self._family(name)
            if not metric.labels:
                scalars[name] = _check_number(name, value)
            elif isinstance(value, Mapping):
                labelled[name] = {_check_label_value(str(k)): _check_number(name, v) for k, v in value.items()}
            else:
                raise ValueError(
                    f"{name} has label {metric.labels[0]!r}: give a mapping of {metric.labels[0]} to value"
                )
        with self._lock:
            self._scalars.update(scalars)
            for name, samples in labelled.items():
                self._labelled[name].update(samples)

    def inc(self, name: str, by: Number = 1) -> None:
        if self._family(name).labels:
            raise ValueError(f"{name} is labelled; use update() with a mapping")
        step = _check_number(name, by)
        with self._lock:
            self._scalars[name] += step

    def clear_labelled(self, name: str) -> None:
        """Drop every sample of a labelled family (e.g. back to no task statuses)."""
        if not self._family(name).labels:
            raise ValueError(f"{name} has no labels")
        with self._lock:
            self._labelled[name].clear()

    def value(self, name: str) -> float:
        with self._lock:
            return self._scalars[self._family(name).name]

    def snapshot(self) -> dict[str, float | dict[str, float]]:
        """A copy of every value, labelled families as nested dicts."""
        with self._lock:
            return {
                m.name: (dict(self._labelled[m.name]) if m.labels else self._scalars[m.name]) for m in self._families
            }

    def render(self) -> str:
        """The /metrics body, formatted exactly as the gateway formats it."""
        lines: list[str] = []
        with self._lock:
            for m in self._families:
                lines.append(f"# HELP {m.name} {m.help}")
                lines.append(f"# TYPE {m.name} {m.type}")
                if m.labels:
                    label = m.labels[0]
                    for key, val in self._labelled[m.name].items():
                        lines.append(f'{m.name}{{{label}="{key}"}} {js_number(val)}')
                    continue
                val = self._scalars[m.name]
                digits = _FIXED_DECIMALS.get(m.name)
                text = js_number(val) if digits is None else js_to_fixed(val, digits)
                lines.append(f"{m.name} {text}")
        return "\n".join(lines) + "\n"
