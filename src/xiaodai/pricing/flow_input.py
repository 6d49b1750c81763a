"""Parse cash-flow documents (the ``xiaodai apr`` input) and compute rates by convention.

Accepted shapes (all amounts as strings or integers; floats in JSON are read through their decimal text):

* dated: ``{"flows": [{"date": "2026-01-10", "amount": "-5000.00"}, ...]}`` — negative = received by
  the borrower (net of any fee kept back), positive = paid by the borrower;
* unit-period positions: ``{"unit_periods_per_year": 12, "flows": [{"t": 1, "f": "0", "amount": "230"}]}``;
* year positions: ``{"flows": [{"t_years": "1/12", "amount": "1432.86"}, ...]}``;
* the conformance-suite ``cash_flows`` object (``model`` ``appj`` or ``eu_years``), bare or wrapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from xiaodai.money.money import MoneyError, to_decimal
from xiaodai.pricing.apr import (
    AppJSeries,
    Convention,
    EuStep,
    RateResult,
    apr_cn,
    apr_from_series,
    apr_regz,
    aprc_eu,
    aprc_from_years,
    cn_from_series,
)
from xiaodai.pricing.cashflow import Flow, Positioned, YearPositioned, parse_fraction
from xiaodai.pricing.unit_period import DAY, MONTH, SEMIMONTH, WEEK, UnitPeriod


class FlowInputError(ValueError):
    """The cash-flow document cannot be read."""


@dataclass(frozen=True, slots=True)
class FlowDocument:
    dated: list[Flow] | None = None
    positioned: AppJSeries | None = None
    years: tuple[list[YearPositioned], list[YearPositioned]] | None = None


def _amount(raw: Any) -> Decimal:
    try:
        return to_decimal(str(raw) if isinstance(raw, float) else raw)
    except MoneyError as exc:
        raise FlowInputError(f"bad amount {raw!r}: {exc}") from exc


def _fraction(raw: Any, what: str) -> Fraction:
    try:
        return parse_fraction(str(raw) if isinstance(raw, float) else raw)
    except (ValueError, ZeroDivisionError) as exc:
        raise FlowInputError(f"bad {what} {raw!r}") from exc


def _expand_series(items: list[Mapping[str, Any]], *, years: bool) -> list[Any]:
    out: list[Any] = []
    for item in items:
        amount = _amount(item["amount"])
        count = int(item.get("count", 1))
        if years:
            if "t_years" in item:
                t0 = _fraction(item["t_years"], "t_years")
                step = Fraction(0)
            else:
                t0 = _fraction(item["t0_years"], "t0_years")
                step = _fraction(item.get("step_years", "0"), "step_years")
            out.extend(YearPositioned(amount, t0 + k * step) for k in range(count))
        else:
            t = int(item["t"])
            f = _fraction(item.get("f", "0"), "f")
            out.extend(Positioned(amount, t + k, f) for k in range(count))
    return out


def parse_flow_document(doc: Any) -> FlowDocument:
    if not isinstance(doc, Mapping):
        raise FlowInputError("expected a JSON object with a 'flows' list")
    if "cash_flows" in doc and isinstance(doc["cash_flows"], Mapping):
        doc = doc["cash_flows"]
    try:
        model = doc.get("model")
        if model == "appj":
            per_year = _fraction(doc.get("unit_periods_per_year", 12), "unit_periods_per_year")
            series = AppJSeries(
                _expand_series(doc["advances"], years=False),
                _expand_series(doc["payments"], years=False),
                per_year,
                unit_for_per_year(per_year),
            )
            return FlowDocument(positioned=series)
        if model == "eu_years":
            return FlowDocument(
                years=(
                    _expand_series(doc["drawdowns"], years=True),
                    _expand_series(doc["payments"], years=True),
                )
            )
        flows = doc.get("flows")
        if not isinstance(flows, list) or not flows:
            raise FlowInputError("expected a non-empty 'flows' list")
        return _parse_flow_list(doc, flows)
    except KeyError as exc:
        raise FlowInputError(f"missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, FlowInputError):
            raise
        raise FlowInputError(str(exc)) from exc


def _parse_flow_list(doc: Mapping[str, Any], flows: list[Any]) -> FlowDocument:
    first = flows[0]
    if not isinstance(first, Mapping):
        raise FlowInputError("each flow must be an object with an amount")
    if "date" in first:
        dated = []
        for item in flows:
            try:
                on = date.fromisoformat(str(item["date"]))
            except ValueError as exc:
                raise FlowInputError(f"unparseable date {item.get('date')!r} (use YYYY-MM-DD)") from exc
            dated.append(Flow(on, _amount(item["amount"])))
        _check_signs([f.amount for f in dated])
        return FlowDocument(dated=dated)
    if "t_years" in first or "t0_years" in first:
        signed = _expand_series(flows, years=True)
        _check_signs([y.amount for y in signed])
        draws = [YearPositioned(-y.amount, y.t_years) for y in signed if y.amount < 0]
        pays = [y for y in signed if y.amount > 0]
        return FlowDocument(years=(draws, pays))
    if "t" in first:
        signed_p = _expand_series(flows, years=False)
        _check_signs([p.amount for p in signed_p])
        per_year = _fraction(doc.get("unit_periods_per_year", 12), "unit_periods_per_year")
        adv = [Positioned(-p.amount, p.t, p.f) for p in signed_p if p.amount < 0]
        pay = [p for p in signed_p if p.amount > 0]
        return FlowDocument(positioned=AppJSeries(adv, pay, per_year, unit_for_per_year(per_year)))
    raise FlowInputError("each flow needs a 'date' (or 't'/'f', or 't_years') and an 'amount'")


def _check_signs(amounts: list[Decimal]) -> None:
    if not (any(a < 0 for a in amounts) and any(a > 0 for a in amounts)):
        raise FlowInputError(
            "flows have no sign change: need negative amounts received and positive amounts paid"
        )


def unit_for_per_year(per_year: Fraction) -> UnitPeriod:
    """The standard unit-period with this many unit-periods a year, else the term (App J (b)(5))."""
    for unit in (UnitPeriod(DAY), UnitPeriod(SEMIMONTH)):
        if unit.per_year == per_year:
            return unit
    if per_year > 0 and (52 / per_year).denominator == 1 and 1 <= 52 / per_year <= 52:
        return UnitPeriod(WEEK, int(52 / per_year))
    if per_year > 0 and (12 / per_year).denominator == 1 and 1 <= 12 / per_year <= 12:
        return UnitPeriod(MONTH, int(12 / per_year))
    return UnitPeriod.TERM


def _single_payment_at_most_a_year(series: AppJSeries) -> AppJSeries:
    """App J (b)(4)(ii): a single advance and a single payment make the term the unit-period, but never
    more than a year; (b)(5)(v): from a year on, whole years plus months/12 (days/365 when not whole
    months — from positions alone a month's odd days are f × 30, App J's own month of (b)(5)(ii))."""
    times = {(p.t, p.f) for p in series.payments}
    if len(times) != 1 or len(series.advances) != 1 or series.advances[0].t or series.advances[0].f:
        return series
    ((t, f),) = times
    term_units = t + f
    if term_units <= 0:
        raise FlowInputError("the single payment must fall after the advance")
    if term_units < series.per_year:  # under a year: one unit-period, the term
        if t == 1 and f == 0:
            return series
        payments = [Positioned(p.amount, 1, Fraction(0)) for p in series.payments]
        return AppJSeries(series.advances, payments, series.per_year / term_units, UnitPeriod.TERM)
    if series.per_year == 1:
        return AppJSeries(series.advances, series.payments, series.per_year, UnitPeriod.YEAR)
    unit = unit_for_per_year(series.per_year)
    if unit.kind == MONTH and (f == 0 or unit.multiple == 1):
        months = t * unit.multiple
        years, spare = divmod(months, 12)
        fraction = Fraction(spare, 12) if f == 0 else Fraction(30 * spare + 30 * f, 365)
    else:  # days, weeks, semimonths or a term count: the time in days over a 365-day year
        days = term_units * 365 / series.per_year
        years = int(days // 365)
        fraction = (days - 365 * years) / 365
    payments = [Positioned(p.amount, years, fraction) for p in series.payments]
    return AppJSeries(series.advances, payments, Fraction(1), UnitPeriod.YEAR)


def rate_for(
    document: FlowDocument,
    convention: Convention,
    *,
    unit: UnitPeriod | None = None,
    eu_step: EuStep = EuStep.MONTH,
    eu_by_days: bool = False,
    eu_leap_years: bool = True,
) -> RateResult:
    if document.dated is not None:
        if convention is Convention.CN:
            return apr_cn(document.dated)
        if convention is Convention.US_REGZ:
            return apr_regz(document.dated, unit)
        return aprc_eu(document.dated, step=eu_step, leap_years=eu_leap_years, by_days=eu_by_days)
    if document.positioned is not None:
        series = document.positioned
        if convention is Convention.US_REGZ:
            return apr_from_series(_single_payment_at_most_a_year(series))
        if convention is Convention.CN:
            if series.per_year != 12:
                raise FlowInputError("the cn convention needs monthly positions (unit_periods_per_year 12)")
            return cn_from_series(series)
        draws = [YearPositioned(p.amount, (p.t + p.f) / series.per_year) for p in series.advances]
        pays = [YearPositioned(p.amount, (p.t + p.f) / series.per_year) for p in series.payments]
        return aprc_from_years(draws, pays)
    assert document.years is not None
    if convention is not Convention.EU:
        raise FlowInputError("year-positioned flows (t_years) can only be rated by the eu convention")
    return aprc_from_years(*document.years)
