"""The quality gate: Great Expectations suites, written as code from the data contract.

Every feed and reference table gets a suite. Each expectation carries a severity in its meta:
- blocking: the file cannot be taken at all (a required column is missing); it is rejected whole;
- row: the rows that break it go to quarantine with the rule and a message;
- waiting: the row points at something not loaded yet (a return whose order comes tomorrow); it
  waits in quarantine and is checked again on every later run;
- duplicate: a repeated natural key inside one file; the last row wins, the others are counted;
- warning: recorded in the run's validation results; the rows still load.

Cross-table rules (time order, refund within what was paid, referential integrity) are checked
on helper columns (`_ordered_at`, `_line_paid`, `_order_line_exists`, …) that the pipeline adds
from the warehouse before validating (`warehouse.load.lookup_parents`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal

import polars as pl

from flows.records import ISSUE_SCHEMA, ROW
from warehouse.contract import FEEDS, Feed

EPOCH = datetime(1970, 1, 1)
Severity = Literal["blocking", "row", "waiting", "duplicate", "warning"]

VALIDATION_SCHEMA = pl.Schema({
    "expectation": pl.String(), "rule": pl.String(), "column_name": pl.String(),
    "severity": pl.String(), "success": pl.Boolean(), "element_count": pl.Int64(),
    "unexpected_count": pl.Int64(), "example": pl.String(),
})


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, with what a failure means and how to say it."""

    name: str
    severity: Severity
    column: str
    expectation: Any  # a great_expectations Expectation
    message: str  # template over the row's fields, e.g. "quantity {quantity} is below 1"


@dataclass(frozen=True)
class Outcome:
    """What validating one frame found."""

    issues: pl.DataFrame  # ISSUE_SCHEMA: one row per (row, failed rule) that keeps a row out
    duplicates: pl.DataFrame  # ROW of rows superseded by a later row with the same key
    results: pl.DataFrame  # VALIDATION_SCHEMA: one row per expectation
    warnings: pl.DataFrame  # ISSUE_SCHEMA for warning-level failures (rows still load)


def _gx():
    import great_expectations as gx  # quiet and offline: see flows/__init__.py

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    # this module pins its own logger at INFO and announces every ephemeral context's docs site
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.ERROR)
    return gx


def _epoch_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _for_gx(frame: pl.DataFrame) -> Any:
    """The pandas frame GX validates: timestamps as epoch microseconds.

    GX compares pandas timestamps element by element in Python (15 s per million rows for a
    range check); as integers the same checks are vectorised and mean the same thing.
    """
    return frame.with_columns(pl.col(pl.Datetime).dt.epoch("us")).to_pandas()


def _contract_rules(feed: Feed, opened: date, horizon: datetime) -> list[Rule]:
    gx = _gx()
    ex = gx.expectations
    rules: list[Rule] = []
    for c in feed.columns:
        rules.append(Rule(f"{c.name}_present", "blocking", c.name,
                          ex.ExpectColumnToExist(column=c.name),
                          f"required column {c.name} is missing"))
        if not c.nullable:
            rules.append(Rule("not_null", "row", c.name,
                              ex.ExpectColumnValuesToNotBeNull(column=c.name),
                              f"{c.name} is required but empty"))
        if c.accepted:
            rules.append(Rule("accepted_values", "row", c.name,
                              ex.ExpectColumnValuesToBeInSet(column=c.name,
                                                             value_set=list(c.accepted)),
                              f"{c.name} '{{{c.name}}}' is not one of {', '.join(c.accepted)}"))
        if c.min_value is not None or c.max_value is not None:
            bounds = " and ".join(b for b in (
                f"at least {c.min_value:g}" if c.min_value is not None else "",
                f"at most {c.max_value:g}" if c.max_value is not None else "") if b)
            rules.append(Rule("range", "row", c.name,
                              ex.ExpectColumnValuesToBeBetween(
                                  column=c.name, min_value=c.min_value, max_value=c.max_value),
                              f"{c.name} {{{c.name}}} should be {bounds}"))
        if isinstance(c.dtype, pl.Datetime):
            earliest = datetime.combine(opened, datetime.min.time())
            rules.append(Rule("plausible_date", "row", c.name,
                              ex.ExpectColumnValuesToBeBetween(
                                  column=c.name, min_value=_epoch_us(earliest),
                                  max_value=_epoch_us(horizon)),
                              f"{c.name} {{{c.name}}} is before the shop opened ({opened}) or "
                              "in the future"))
    key = list(feed.key)
    unique = (ex.ExpectColumnValuesToBeUnique(column=key[0]) if len(key) == 1
              else ex.ExpectCompoundColumnsToBeUnique(column_list=key))
    rules.append(Rule("unique_key", "duplicate", ",".join(key), unique,
                      f"{'/'.join(key)} repeats an earlier row of the file; the last one wins"))
    return rules


def _after(name: str, later: str, earlier: str, what: str) -> Rule:
    ex = _gx().expectations
    return Rule(name, "row", later,
                ex.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=later, column_B=earlier, or_equal=True,
                    ignore_row_if="either_value_is_missing"),
                f"{later} {{{later}}} is before {what} {{{earlier}}}")


def _exists(column: str, helper: str, what: str, severity: Severity = "waiting") -> Rule:
    ex = _gx().expectations
    return Rule(f"{what.split(' ', 1)[1].replace(' ', '_')}_exists", severity, column,
                ex.ExpectColumnValuesToBeInSet(column=helper, value_set=[True]),
                f"{column} {{{column}}} refers to {what} that is not loaded"
                + (" (yet: the row waits and is checked again on the next run)"
                   if severity == "waiting" else ""))


def _cross_rules(feed: str) -> list[Rule]:
    """Rules that look beyond the row's own file (helper columns from lookup_parents)."""
    ex = _gx().expectations
    if feed == "orders":
        return [
            _after("delivered_after_order", "delivered_at", "ordered_at", "the order"),
            _after("promise_after_order", "promised_delivery_at", "ordered_at", "the order"),
            Rule("discount_within_price", "row", "discount_amount",
                 ex.ExpectColumnPairValuesAToBeGreaterThanB(
                     column_A="_gross_value", column_B="discount_amount", or_equal=True,
                     ignore_row_if="either_value_is_missing"),
                 "discount_amount {discount_amount} is more than the line's price "
                 "{_gross_value}"),
            _exists("sku", "_sku_known", "a product in the catalogue", "warning"),
        ]
    if feed == "returns":
        return [
            _exists("order_id", "_order_line_exists", "an order line"),
            _after("requested_after_order", "requested_at", "_ordered_at", "the order date"),
            _after("received_after_request", "received_at", "requested_at", "the request"),
            _after("refunded_after_request", "refunded_at", "requested_at", "the request"),
            Rule("refund_within_paid", "row", "refund_amount",
                 ex.ExpectColumnPairValuesAToBeGreaterThanB(
                     column_A="_line_paid", column_B="refund_amount", or_equal=True,
                     ignore_row_if="either_value_is_missing"),
                 "refund_amount {refund_amount} is more than the {_line_paid} paid for the line"),
            Rule("returned_within_sold", "row", "quantity",
                 ex.ExpectColumnPairValuesAToBeGreaterThanB(
                     column_A="_line_quantity", column_B="quantity", or_equal=True,
                     ignore_row_if="either_value_is_missing"),
                 "quantity {quantity} returned is more than the {_line_quantity} sold"),
        ]
    if feed == "carrier_scans":
        return [
            _exists("return_id", "_return_exists", "a return"),
            _after("scan_after_request", "event_at", "_requested_at", "the return request"),
        ]
    if feed == "reviews":
        return [_exists("order_id", "_order_exists", "an order", "warning")]
    if feed == "products":
        return [_exists("vendor_id", "_vendor_exists", "a vendor")]
    return []


@cache
def suite(feed_name: str, opened: date, horizon: datetime) -> tuple[Rule, ...]:
    """Every rule for a feed: the contract's, then the cross-table ones."""
    return tuple(_contract_rules(FEEDS[feed_name], opened, horizon) + _cross_rules(feed_name))


@cache
def _validator(feed_name: str, opened: date, horizon: datetime, blocking: bool):
    """A GX validation definition over a whole data frame: the blocking or the row rules."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars on screen
    batch = (context.data_sources.add_pandas(f"returnlens_{feed_name}")
             .add_dataframe_asset(feed_name).add_batch_definition_whole_dataframe("file"))
    gx_suite = context.suites.add(gx.ExpectationSuite(name=feed_name))
    for rule_id, rule in enumerate(suite(feed_name, opened, horizon)):
        if (rule.severity == "blocking") == blocking:
            rule.expectation.meta = {"rule_id": rule_id, "severity": rule.severity}
            gx_suite.add_expectation(rule.expectation)
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=feed_name, data=batch, suite=gx_suite))


def horizon_now() -> datetime:
    """Latest plausible timestamp: a day after now (UTC), to allow for clock skew."""
    from warehouse.load import utcnow

    return (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


def missing_columns(feed: Feed, header: pl.DataFrame, opened: date,
                    horizon: datetime) -> list[str]:
    """Run the blocking rules (required columns present) on a file's header."""
    rules = suite(feed.name, opened, horizon)
    result = _validator(feed.name, opened, horizon, True).run(
        batch_parameters={"dataframe": header.head(0).to_pandas()})
    return [rules[r.expectation_config.meta["rule_id"]].column
            for r in result.results if not r.success]


def _shown(value: object) -> object:
    """A value as a message shows it: floats without binary noise (59.4, not
    59.400000000000006), missing values empty."""
    if value is None:
        return ""
    return round(value, 6) if isinstance(value, float) else value


def _render(template: str, rows: pl.DataFrame) -> pl.Series:
    """Fill a message template with each row's values."""
    return pl.Series([template.format_map({k: _shown(v) for k, v in r.items()})
                      for r in rows.to_dicts()], dtype=pl.String)


def validate(feed: Feed, frame: pl.DataFrame, opened: date, horizon: datetime) -> Outcome:
    """Run the feed's suite over `frame` (typed contract columns, ROW, helper columns)."""
    rules = suite(feed.name, opened, horizon)
    if frame.is_empty():
        empty = pl.DataFrame(schema=ISSUE_SCHEMA)
        return Outcome(empty, pl.DataFrame(schema={ROW: pl.Int64}),
                       pl.DataFrame(schema=VALIDATION_SCHEMA), empty)
    result = _validator(feed.name, opened, horizon, False).run(
        batch_parameters={"dataframe": _for_gx(frame)},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]})
    issues, warnings, results = [], [], []
    duplicate_rows: list[int] = []
    for r in result.results:
        rule = rules[r.expectation_config.meta["rule_id"]]
        rows = [int(i[ROW]) for i in r.result.get("unexpected_index_list") or []]
        failed = frame.filter(pl.col(ROW).is_in(rows))
        example = ""
        if rows:
            example = json.dumps({ROW: rows[0], "message": _render(rule.message,
                                                                    failed.head(1))[0]},
                                 ensure_ascii=False)
        results.append({
            "expectation": r.expectation_config.type, "rule": rule.name,
            "column_name": rule.column,
            "severity": rule.severity, "success": bool(r.success),
            "element_count": int(r.result.get("element_count") or frame.height),
            "unexpected_count": int(r.result.get("unexpected_count") or len(rows)),
            "example": example,
        })
        if not rows:
            continue
        if rule.severity == "duplicate":
            key = list(feed.key)
            last = failed.group_by(key).agg(pl.col(ROW).max())[ROW]
            duplicate_rows += failed.filter(~pl.col(ROW).is_in(last))[ROW].to_list()
            continue
        found = pl.DataFrame({
            ROW: failed[ROW], "field": rule.column, "rule": rule.name,
            "severity": rule.severity, "message": _render(rule.message, failed),
        }, schema=ISSUE_SCHEMA)
        (warnings if rule.severity == "warning" else issues).append(found)
    return Outcome(
        pl.concat(issues) if issues else pl.DataFrame(schema=ISSUE_SCHEMA),
        pl.DataFrame({ROW: duplicate_rows}, schema={ROW: pl.Int64}),
        pl.DataFrame(results, schema=VALIDATION_SCHEMA),
        pl.concat(warnings) if warnings else pl.DataFrame(schema=ISSUE_SCHEMA),
    )


@dataclass(frozen=True)
class Gate:
    """A frame split by the quality gate. Every input row is in exactly one of the three."""

    good: pl.DataFrame  # rows to load: ROW + contract columns
    quarantined: pl.DataFrame  # one row per kept-out row: ROW, field, rule, severity, status,
    #                            message (all its problems)
    duplicates: pl.DataFrame  # ROW of rows superseded by a later row with the same key
    results: pl.DataFrame  # VALIDATION_SCHEMA, the type rule included
    warnings: pl.DataFrame  # ISSUE_SCHEMA


def _with_row_helpers(feed: Feed, frame: pl.DataFrame) -> pl.DataFrame:
    if feed.name == "orders":
        return frame.with_columns(_gross_value=pl.col("quantity") * pl.col("unit_price") + 0.01)
    return frame


def gate(feed: Feed, typed: pl.DataFrame, type_issues: pl.DataFrame, opened: date,
         horizon: datetime) -> Gate:
    """Validate typed rows (with parent helper columns) and split them: load, keep out, skip.

    Rows whose values did not parse skip the suite (their nulls would only repeat the news);
    a row waits only when every problem it has is a missing parent.
    """
    parseable = typed.filter(~pl.col(ROW).is_in(type_issues[ROW].implode()))
    outcome = validate(feed, _with_row_helpers(feed, parseable), opened, horizon)
    issues = pl.concat([type_issues, outcome.issues])
    quarantined = (issues.sort(ROW, maintain_order=True).group_by(ROW, maintain_order=True).agg(
        pl.col("field").first(), pl.col("rule").first(),
        severity=pl.col("severity").first(),
        status=pl.when((pl.col("severity") == "waiting").all()).then(pl.lit("waiting"))
        .otherwise(pl.lit("rejected")),
        message=pl.col("message").str.join("; ")))
    duplicates = outcome.duplicates.filter(~pl.col(ROW).is_in(quarantined[ROW].implode()))
    out = pl.concat([quarantined[ROW], duplicates[ROW]]).implode()
    type_result = pl.DataFrame([{
        "expectation": "expect_column_values_to_be_parseable", "rule": "type",
        "column_name": "*",
        "severity": "row", "success": type_issues.is_empty(), "element_count": typed.height,
        "unexpected_count": type_issues[ROW].n_unique(),
        "example": json.dumps({ROW: type_issues[ROW][0], "message": type_issues["message"][0]},
                              ensure_ascii=False) if type_issues.height else "",
    }], schema=VALIDATION_SCHEMA)
    return Gate(
        good=typed.filter(~pl.col(ROW).is_in(out)).select(ROW, *feed.column_names),
        quarantined=quarantined,
        duplicates=duplicates,
        results=pl.concat([type_result, outcome.results]),
        warnings=outcome.warnings,
    )
