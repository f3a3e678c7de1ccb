"""The return-policy simulator: what a window, fee, label fee or exchange bonus would do to a
cohort of orders, learned from the merchant's own history (docs/policy-lab.md).

The model, per category c and reason group g:
- a delivered unit carries an *intent* to return; its natural lag (days from delivery to the
  request) follows a distribution F_c fitted to the history's days-to-return, truncated before
  each policy's deadline rush (gamma, log-normal or Weibull, whichever fit; kept together when
  the data cannot tell them apart);
- under a window w the share of intent that is returned is V_c(w) = F_c(w) + rho_c(w)(1 - F_c(w)):
  those who decide inside the window, plus the share rho of late deciders who rush in before the
  deadline; rho is read off the excess of returns just before each deadline in the history,
  and carried to other deadlines along its trend in log window;
- intent itself moves with the window, (w1/w0)^-eta, and for returns that pay a fee (reasons
  that are not the shop's fault) with the fee, exp(-beta * fee share); the history's policy
  changes tell how much intent moved; when the window and the fee changed together (the usual
  case) the data cannot split the move between them, so eta is an assumption and beta is what
  the observed move leaves, replicate by replicate;
- what the data cannot tell (the window's effect on intent when it changed with a fee, a paid
  label's deterrence, exchange-bonus uptake, later purchases after a paid return) are
  `Assumptions`, each with a default, a range and its source.

A scenario reweights the baseline cohort's own returns, so it reproduces the cohort exactly under
the cohort's own policy, and every money column means what `returnlens kpis` means by it. Every
output carries an 80% interval from a customer-block bootstrap (refitting everything learned),
draws of the assumptions over their ranges, and the noise of a new outcome.
"""

from __future__ import annotations

import hashlib
import pickle
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
from scipy import optimize, special

from warehouse.contract import DEFECT_REASONS, FAULT_REASONS

BLOCKS = 64  # customers are hashed into this many blocks for the bootstrap
REPLICATES = 100
SEED = 0  # the Policy Lab's and `returnlens simulate`'s default; the pipeline learns with it
RUSH_ZONE_DAYS = 2.0  # the deadline rush lands in the last days before the deadline
BIN_DAYS = 0.25  # days-to-return are binned this finely for the lag fits
LATER_SPEND_DAYS = 180  # later purchases: what a returning customer buys in the days after
INTERVAL = (0.10, 0.90)  # the 80% interval
MIN_RUSH_MASS = 30.0  # expected late units below which a category's rush is taken from the pool
MIN_LAGGED_RETURNS = 50  # customer returns with a days-to-return, below which no curve is learned
FAMILIES = ("gamma", "lognormal", "weibull")
AIC_KEEP = 10.0  # lag families within this AIC of the best are kept as model uncertainty
GROUPS = ("choice", "defect", "control")  # choice pays fees; control: shop's fault, no defect
METRICS = (
    "units_returned", "refunds", "fee_revenue", "reverse_logistics", "exchange_cost",
    "recovered_value", "net_cost", "customers_affected", "later_purchases",
)
METRIC_LABELS = {
    "units_returned": "Units returned",
    "refunds": "Refunds (after fees)",
    "fee_revenue": "Fee revenue (restocking + label)",
    "reverse_logistics": "Reverse logistics (shipping + handling)",
    "exchange_cost": "Exchange cost (replacements + bonus credit)",
    "recovered_value": "Recovered value",
    "net_cost": "Net return cost",
    "customers_affected": "Customers affected",
    "later_purchases": f"Later purchases of returning customers ({LATER_SPEND_DAYS} days)",
}
MONEY_METRICS = frozenset(METRICS) - {"units_returned", "customers_affected"}


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Scenario:
    """A return policy to try: window, restocking fee share, flat label fee, exchange bonus."""

    window_days: int
    restocking_fee_pct: float = 0.0
    label_fee: float = 0.0
    exchange_bonus: float = 0.0
    categories: tuple[str, ...] | None = None  # None: every category

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"window_days {self.window_days}: a window is at least 1 day")
        if not 0 <= self.restocking_fee_pct <= 1:
            raise ValueError(f"restocking_fee_pct {self.restocking_fee_pct}: a share, 0 to 1 "
                             "(0.10 for 10%)")
        if self.label_fee < 0:
            raise ValueError(f"label_fee {self.label_fee}: a fee is not negative")
        if not 0 <= self.exchange_bonus <= 1:
            raise ValueError(f"exchange_bonus {self.exchange_bonus}: a share of the item's "
                             "value, 0 to 1")

    def label(self) -> str:
        """A short human name for the scenario."""
        parts = [f"{self.window_days} days", f"{self.restocking_fee_pct:.0%} fee"]
        if self.label_fee:
            parts.append(f"label {self.label_fee:,.2f}")
        if self.exchange_bonus:
            parts.append(f"{self.exchange_bonus:.0%} exchange bonus")
        if self.categories:
            parts.append(", ".join(self.categories))
        return ", ".join(parts)


@dataclass(frozen=True)
class Assumption:
    """A behavioural response the history cannot tell: default, 80% range and its source."""

    default: float
    low: float
    high: float
    meaning: str
    source: str

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high:
            raise ValueError(f"assumption default {self.default} outside [{self.low}, "
                             f"{self.high}]")


@dataclass(frozen=True)
class Assumptions:
    """The simulator's editable assumptions (docs/policy-lab.md gives the reasoning)."""

    label_fee_deterrence: Assumption = field(default_factory=lambda: Assumption(
        0.12, 0.05, 0.20,
        "Share of returns that are not the shop's fault a flat label fee deters, whatever its "
        "amount (small fees, about EUR 0.50-2, are all the evidence covers).",
        "Wehkamp's EUR 0.50 fee: returned items -10% to -14% (ANP/Nu.nl 2023-24, confounded "
        "by a 17% sales fall); range widened both ways."))
    exchange_uptake_per_bonus: Assumption = field(default_factory=lambda: Assumption(
        2.0, 1.0, 4.0,
        "Share of refund returns that switch to an exchange per unit of bonus share "
        "(2.0: a 10% bonus moves 20% of them), capped at 90%.",
        "Not quantified in the literature read; Janakiraman, Syrdal & Freling 2016 give only "
        "the sign (exchange leniency lowers returns). Calibrate from your own test."))
    later_spend_fee_effect: Assumption = field(default_factory=lambda: Assumption(
        -0.40, -0.75, -0.10,
        "Relative change in what a customer buys after a return when the return now costs "
        "them a fee (the same change, reversed, when a fee is removed).",
        "Bower & Maxham 2012 (J. Marketing 76(5)): paid returners cut later spending 75-100%, "
        "free returners raised it; observational, so shrunk towards 0."))
    fee_deterrence_prior: Assumption = field(default_factory=lambda: Assumption(
        1.2, 0.5, 2.0,
        "Fee deterrence beta (returns fall by exp(-beta x fee share)) when the history has no "
        "fee change to learn it from.",
        "Wehkamp: a small flat fee, -10% to -14% returned items; no rate elasticity found."))
    window_intent_prior: Assumption = field(default_factory=lambda: Assumption(
        0.0, 0.0, 0.20,
        "Intent elasticity eta to the window ((w1/w0)^-eta; positive = shorter windows raise "
        "intent) when the history cannot tell it: no window change, or one made together "
        "with a fee change.",
        "Ertekin & Agrawal 2021: cutting the window 100 -> 60 days had no significant effect on "
        "the online return rate (the default, 0); Janakiraman & Ordonez 2012 and Janakiraman, "
        "Syrdal & Freling 2016 give the sign of the range (shorter windows can raise returns), "
        "no size."))
    rush_share_prior: Assumption = field(default_factory=lambda: Assumption(
        0.3, 0.1, 0.5,
        "Share of late deciders who hurry in before a deadline, when the history shows no "
        "deadline rush to learn it from.",
        "Ertekin & Agrawal 2021 (return displacement into the window); share not found."))

    def names(self) -> tuple[str, ...]:
        """The assumption names, in declaration order."""
        return tuple(f.name for f in fields(self))

    def with_defaults(self, values: Mapping[str, float]) -> Assumptions:
        """These assumptions with new defaults (kept inside widened ranges)."""
        changed = {}
        for name, value in values.items():
            current: Assumption = getattr(self, name)
            changed[name] = replace(current, default=float(value),
                                    low=min(current.low, float(value)),
                                    high=max(current.high, float(value)))
        return replace(self, **changed)


# ----------------------------------------------------------------------------- learning


@dataclass(frozen=True)
class History:
    """What the warehouse holds that the simulator learns from (warehouse/read/policy.py)."""

    policy: pl.DataFrame
    returns: pl.DataFrame
    sales: pl.DataFrame
    spend: pl.DataFrame


@dataclass(frozen=True)
class Learned:
    """Everything learned from a history: the fits per bootstrap replicate, and the cohort data.

    Index 0 of every replicate axis is the fit to the full data (the point estimate).
    """

    categories: tuple[str, ...]
    regimes: pl.DataFrame  # policy_id, window_days, restocking_fee_pct, regime (index)
    family: np.ndarray  # (K, C) lag family index
    p1: np.ndarray  # (K, C) shape parameter
    p2: np.ndarray  # (K, C) scale parameter
    rush_windows: np.ndarray  # (R,) windows with a rush estimate, sorted
    rush: np.ndarray  # (K, C, R) rush share at those windows
    log_intent: np.ndarray  # (K, R) log intent of returns that pay fees, per regime
    weights: np.ndarray  # (K, BLOCKS) bootstrap weights of the fit (row 0: ones)
    noise: np.ndarray  # (K, BLOCKS) independent weights for a new outcome's noise
    lines: pl.DataFrame  # every return of a known line, ready to aggregate
    sales: pl.DataFrame
    diagnostics: dict[str, object]


def _cdf_one(family: int, a: float, s: float, x: np.ndarray) -> np.ndarray:
    """F(x) of one lag family (index into FAMILIES) with shape a and scale s."""
    x = np.maximum(x, 0.0)
    if family == 0:
        return special.gammainc(a, x / s)
    with np.errstate(divide="ignore"):
        if family == 1:
            return special.ndtr((np.log(x) - np.log(s)) / a)
        return -np.expm1(-np.power(x / s, a))


def _cdf(family: np.ndarray, p1: np.ndarray, p2: np.ndarray, x: np.ndarray) -> np.ndarray:
    """F(x) for lag families given by index, broadcasting over arrays."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gamma = special.gammainc(p1, x / p2)
        lognormal = special.ndtr((np.log(np.where(x > 0, x, 1e-12)) - np.log(p2)) / p1)
        weibull = -np.expm1(-np.power(x / p2, p1))
    out = np.where(family == 0, gamma, np.where(family == 1, lognormal, weibull))
    return np.where(x > 0, out, 0.0)


def _fit_lag(counts: np.ndarray, upper: np.ndarray, edges: np.ndarray, family: int,
             start: tuple[float, float]) -> tuple[float, float, float]:
    """Binned maximum likelihood of one lag family, each regime truncated at its upper edge.

    counts: (R, bins) units per lag bin; upper: (R,) index of the first bin not used.
    Returns (p1, p2, negative log-likelihood).
    """
    masks = np.arange(counts.shape[1])[None, :] < upper[:, None]
    used = np.where(masks, counts, 0.0)
    totals = used.sum(axis=1)
    cut = edges[upper]

    def nll(theta: np.ndarray) -> float:
        a, s = np.exp(np.clip(theta, -4.0, 6.0))
        mass = np.clip(np.diff(_cdf_one(family, a, s, edges)), 1e-300, None)
        norm = np.clip(_cdf_one(family, a, s, cut), 1e-300, None)
        return float(-(used @ np.log(mass)).sum() + (totals * np.log(norm)).sum())

    result = optimize.minimize(nll, np.log(start), method="Nelder-Mead",
                               options={"xatol": 1e-4, "fatol": 1e-3})
    a, s = np.exp(result.x)
    return float(a), float(s), float(result.fun)


def _start(counts: np.ndarray, upper: np.ndarray, mids: np.ndarray, family: int
           ) -> tuple[float, float]:
    """Moment-based starting values for a lag family from the untruncated-looking bins."""
    r = int(np.argmax(upper))
    w = counts[r, : upper[r]]
    x = mids[: upper[r]]
    mean = max(float((w * x).sum() / max(w.sum(), 1e-9)), 0.5)
    var = max(float((w * (x - mean) ** 2).sum() / max(w.sum(), 1e-9)), 0.25)
    if family == 0:
        return mean**2 / var, var / mean
    if family == 1:
        s = float(np.sqrt(np.log1p(var / mean**2)))
        return max(s, 0.1), mean / np.exp(s**2 / 2)
    return 1.5, mean * 1.1


def _blocks(customer: pl.Expr) -> pl.Expr:
    """A stable block number per customer (a digest, not the process's hash seed)."""
    return customer.map_elements(
        lambda c: int.from_bytes(hashlib.blake2b(str(c).encode(), digest_size=4).digest(),
                                 "little") % BLOCKS, return_dtype=pl.Int64)


def _group(reason: pl.Expr) -> pl.Expr:
    """The reason group of a return: control (shop's fault, no defect), defect, or choice."""
    control = [r for r in FAULT_REASONS if r not in DEFECT_REASONS]
    return (pl.when(reason.is_in(control)).then(pl.lit(GROUPS.index("control")))
            .when(reason.is_in(list(DEFECT_REASONS))).then(pl.lit(GROUPS.index("defect")))
            .otherwise(pl.lit(GROUPS.index("choice"))))


def _regime_of(frame: pl.DataFrame, regimes: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the policy regime of each order date (null outside every policy)."""
    ranges = regimes.select("regime", "effective_from", "effective_to")
    joined = frame.sort("order_date", maintain_order=True).join_asof(
        ranges.sort("effective_from"), left_on="order_date", right_on="effective_from",
        strategy="backward")
    inside = pl.col("effective_to").is_null() | (pl.col("order_date") <= pl.col("effective_to"))
    return joined.with_columns(pl.when(inside).then(pl.col("regime")).alias("regime")).drop(
        "effective_from", "effective_to")


def _later_spend(returns: pl.DataFrame, spend: pl.DataFrame) -> pl.Series:
    """What each returning customer bought in the LATER_SPEND_DAYS after the return's day."""
    cum = (spend.sort("customer_id", "order_date")
           .with_columns(pl.col("spend").cum_sum().over("customer_id").alias("cum")))
    keys = returns.select(
        pl.int_range(pl.len()).alias("row"), "customer_id",
        pl.col("requested_date").alias("start"),
        (pl.col("requested_date") + timedelta(days=LATER_SPEND_DAYS)).alias("end"))
    def cum_at(column: str) -> pl.DataFrame:
        # both sides sorted by date overall, hence within every customer
        return (keys.sort(column).join_asof(
            cum.select("customer_id", "order_date", "cum").sort("order_date"),
            left_on=column, right_on="order_date", by="customer_id", strategy="backward",
            check_sortedness=False)
            .select("row", pl.col("cum").fill_null(0.0)).sort("row"))
    return (cum_at("end")["cum"] - cum_at("start")["cum"]).rename("later_spend")


def prepare_lines(history: History, regimes: pl.DataFrame) -> pl.DataFrame:
    """Return lines with regime, reason group, block, lag and the customer's later spend."""
    returns = history.returns.filter(pl.col("requested_date").is_not_null())
    returns = _regime_of(returns, regimes)
    later = _later_spend(returns, history.spend)
    customer = returns.get_column("return_type") == "customer_return"
    resolution = pl.col("resolution").fill_null("")
    return returns.with_columns(
        later.alias("later_spend"),
        _blocks(pl.col("customer_id")).alias("block"),
        _group(pl.col("reason_code")).alias("group"),
        (resolution == "exchange").alias("exchange"),
        pl.Series("customer", customer),
        pl.col("days_to_return").clip(lower_bound=0).alias("lag"),
        # the refund a fee is taken from: refund returns and store credit that paid out
        pl.when((resolution != "exchange") & ((pl.col("refund_amount") > 0)
                                              | (pl.col("restocking_fee") > 0)))
        .then(pl.col("refund_amount") + pl.col("restocking_fee")).otherwise(0.0)
        .alias("fee_base"),
        pl.col("replacement_cost").fill_null(0.0),
    )


def _missing_history(history: History) -> list[str]:
    """What the history lacks for the simulator to learn from, each in words, all at once (a
    source short of both should not make its user load one to be told of the other)."""
    missing = []
    if history.policy.is_empty():
        missing.append("return_policy: the warehouse holds no return policy, so there is no "
                       "window to learn a response from; load your policy history as a "
                       "return_policy file (columns in docs/data-contract.md) with "
                       "`returnlens pipeline --source FOLDER`")
    customer = history.returns.filter(pl.col("return_type") == "customer_return")
    lagged = customer["days_to_return"].drop_nulls().len()
    if customer.is_empty():
        missing.append("returns: the warehouse holds no customer returns, so there is no "
                       "return behaviour to learn from; load the returns feed")
    elif lagged < MIN_LAGGED_RETURNS:
        missing.append(f"returns: {lagged:,} of the {customer.height:,} customer returns have "
                       "a days-to-return (delivery to request: the source must record when "
                       f"orders were delivered); at least {MIN_LAGGED_RETURNS} are needed to "
                       "learn how a window cuts returns")
    return missing


def learn(history: History, seed: int = 0, replicates: int = REPLICATES) -> Learned:
    """Fit lag curves, deadline rush, window and fee responses, with bootstrap replicates."""
    if history.sales.is_empty():
        raise ValueError("orders: the warehouse holds no order lines, so there are no sales to "
                         "learn a return response from; load the orders feed")
    missing = _missing_history(history)
    if missing:
        raise ValueError("; ".join(missing))
    regimes = history.policy.sort("effective_from").with_columns(
        pl.int_range(pl.len()).alias("regime"))
    lines = prepare_lines(history, regimes)
    categories = tuple(sorted(set(history.sales["category"].unique().to_list())
                              | set(lines["category"].unique().to_list())))
    cat_index = {c: i for i, c in enumerate(categories)}
    lines = lines.with_columns(pl.col("category").replace_strict(cat_index).alias("cat"))
    sales = _regime_of(history.sales, regimes).with_columns(
        pl.col("category").replace_strict(cat_index, default=None).alias("cat"))

    windows = regimes["window_days"].to_numpy().astype(float)
    n_cat, n_reg = len(categories), len(regimes)
    last_day = sales["order_date"].max()
    complete_until = last_day - timedelta(days=int(windows.max()) + 21)  # type: ignore[operator]
    edges = np.arange(0.0, windows.max() + RUSH_ZONE_DAYS + BIN_DAYS, BIN_DAYS)
    n_bins = len(edges) - 1
    mids = (edges[:-1] + edges[1:]) / 2

    learnable = lines.filter(pl.col("customer") & pl.col("lag").is_not_null()
                             & pl.col("regime").is_not_null()
                             & (pl.col("order_date") <= complete_until))
    binned = learnable.with_columns(
        (pl.col("lag") / BIN_DAYS).floor().cast(pl.Int64).clip(upper_bound=n_bins - 1)
        .alias("bin")).group_by("cat", "regime", "group", "block", "bin").agg(
        pl.col("quantity").sum().alias("units"))
    counts = np.zeros((n_cat, n_reg, len(GROUPS), BLOCKS, n_bins))
    counts[tuple(binned[c].to_numpy() for c in ("cat", "regime", "group", "block", "bin"))] = \
        binned["units"].to_numpy()
    exposure = np.zeros((n_cat, n_reg))
    exp_frame = sales.filter(pl.col("regime").is_not_null() & pl.col("cat").is_not_null()
                             & (pl.col("order_date") <= complete_until)).group_by(
        "cat", "regime").agg(pl.col("units_delivered").sum())
    exposure[exp_frame["cat"].to_numpy(), exp_frame["regime"].to_numpy()] = \
        exp_frame["units_delivered"].to_numpy()

    rng = np.random.default_rng(seed)
    # resample the customer blocks with replacement (row 0: every block once)
    uniform = np.full(BLOCKS, 1 / BLOCKS)
    weights = np.vstack([np.ones(BLOCKS),
                         rng.multinomial(BLOCKS, uniform, replicates - 1)]).astype(float)
    noise = rng.multinomial(BLOCKS, uniform, replicates).astype(float)
    upper = np.clip(np.floor((windows - RUSH_ZONE_DAYS) / BIN_DAYS).astype(int), 1, n_bins)
    rush_from = upper  # bins from here on are the deadline zone (and any late request)

    # per replicate, counts summed over blocks: (K, C, R, G, bins)
    rep_counts = np.einsum("kb,crgbn->kcrgn", weights, counts, optimize=True)
    lag_counts = rep_counts.sum(axis=3)

    family = np.zeros((replicates, n_cat), dtype=int)
    p1 = np.full((replicates, n_cat), np.nan)
    p2 = np.full((replicates, n_cat), np.nan)
    kept_families: dict[str, list[str]] = {}
    pooled = lag_counts[0].sum(axis=0)
    for c in range(n_cat):
        point = lag_counts[0, c] if lag_counts[0, c][:, :].sum() >= 50 else pooled
        fits = []
        for f in range(len(FAMILIES)):
            a, s, nll = _fit_lag(point, upper, edges, f, _start(point, upper, mids, f))
            fits.append((2 * nll + 4, f, a, s))
        best = min(fits)[0]
        kept = [fit for fit in fits if fit[0] - best <= AIC_KEEP]
        kept_families[categories[c]] = [FAMILIES[fit[1]] for fit in kept]
        family[0, c], p1[0, c], p2[0, c] = min(fits)[1:]
        for k in range(1, replicates):
            _, f, a0, s0 = kept[k % len(kept)]
            data = lag_counts[k, c] if lag_counts[0, c].sum() >= 50 else lag_counts[k].sum(0)
            a, s, _ = _fit_lag(data, upper, edges, f, (a0, s0))
            family[k, c], p1[k, c], p2[k, c] = f, a, s

    # intent per regime and group from the early (pre-rush) returns: (K, C, R, G)
    early_mask = np.arange(n_bins)[None, :] < upper[:, None]  # (R, bins)
    early = (rep_counts * early_mask[None, None, :, None, :]).sum(axis=-1)
    f_cut = _cdf(family[:, :, None], p1[:, :, None], p2[:, :, None],
                 (windows - RUSH_ZONE_DAYS)[None, None, :])  # (K, C, R)
    f_win = _cdf(family[:, :, None], p1[:, :, None], p2[:, :, None], windows[None, None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        intent = early / (exposure[None, :, :, None] * f_cut[..., None])
    total_intent = np.nan_to_num(intent).sum(axis=-1)  # (K, C, R)
    late_mask = np.arange(n_bins)[None, :] >= rush_from[:, None]
    late = (rep_counts.sum(axis=3) * late_mask[None, None]).sum(axis=-1)  # (K, C, R)
    natural = exposure[None] * total_intent * (f_win - f_cut)
    late_mass = exposure[None] * total_intent * (1 - f_win)
    with np.errstate(divide="ignore", invalid="ignore"):
        rush_cat = (late - natural) / late_mass
        rush_pool = ((late - natural).sum(axis=1) / late_mass.sum(axis=1))  # (K, R)
    enough = late_mass[0] >= MIN_RUSH_MASS  # (C, R)
    rush = np.where(enough[None], rush_cat, rush_pool[:, None, :])
    rush_ok = late_mass[0].sum(axis=0) >= MIN_RUSH_MASS  # (R,) a regime whose rush is visible

    # window and fee responses: log intent (pooled over categories) against window and fee
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_intent = (early.sum(axis=1)
                         / (exposure[None, :, :, None] * f_cut[..., None]).sum(axis=1))  # K,R,G
    log_intent = np.log(pooled_intent[:, :, GROUPS.index("choice")])
    rush_windows = windows[rush_ok]
    order = np.argsort(rush_windows)
    rush_values = np.clip(rush[:, :, rush_ok][:, :, order], 0.0, 1.0)
    diagnostics: dict[str, object] = {
        "lag_families": kept_families,
        "complete_until": complete_until.isoformat(),  # type: ignore[union-attr]
        "regimes": regimes.select("policy_id", "window_days", "restocking_fee_pct").to_dicts(),
        "rush_point": {categories[c]: dict(zip(map(float, rush_windows[order]),
                                               map(float, rush_values[0, c]), strict=True))
                       for c in range(n_cat)},
        "intent_point": {GROUPS[g]: [float(v) for v in pooled_intent[0, :, g]]
                         for g in range(len(GROUPS))},
    }
    return Learned(
        categories=categories, regimes=regimes, family=family, p1=p1, p2=p2,
        rush_windows=rush_windows[order], rush=rush_values, log_intent=log_intent,
        weights=weights, noise=noise, lines=lines, sales=sales, diagnostics=diagnostics)


def _responses(log_intent: np.ndarray, windows: np.ndarray, fees: np.ndarray,
               eta_prior: np.ndarray, beta_prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eta and beta per replicate from log intent by regime (ln pi = a - eta ln w - beta f).

    Whatever the history varies is fitted; when window and fee only ever changed together the
    window's share is the prior eta and beta fits what is left; what never varied is the prior.
    """
    k = log_intent.shape[0]
    eta, beta = eta_prior.copy(), beta_prior.copy()
    log_w = np.log(windows)
    has_window, has_fee = np.ptp(log_w) > 0, np.ptp(fees) > 0
    if not (has_window or has_fee):
        return eta, beta
    confounded = has_window and has_fee and np.linalg.matrix_rank(
        np.column_stack([np.ones_like(fees), log_w, fees])) < 3
    for i in range(k):
        y = log_intent[i]
        if not np.all(np.isfinite(y)):
            continue
        columns = [np.ones_like(fees)]
        if has_fee:
            y = y + (eta[i] * log_w if confounded or not has_window else 0.0)
            columns.append(-fees)
        if has_window and not confounded:
            columns.append(-log_w)
        solution = np.linalg.lstsq(np.column_stack(columns), y, rcond=None)[0]
        if has_fee:
            beta[i] = solution[1]
        if has_window and not confounded:
            eta[i] = solution[-1]
    return eta, beta


# ----------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class Params:
    """K parameter sets to evaluate a scenario under (replicates, or a sensitivity sweep)."""

    family: np.ndarray  # (K, C)
    p1: np.ndarray
    p2: np.ndarray
    rush: np.ndarray  # (K, C, R)
    eta: np.ndarray  # (K,)
    beta: np.ndarray
    label_deterrence: np.ndarray
    uptake: np.ndarray
    spend_effect: np.ndarray
    weights: np.ndarray  # (K, BLOCKS)

    def take(self, index: np.ndarray) -> Params:
        """These parameter sets reordered or repeated by `index`."""
        return Params(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def swap(self, names: tuple[str, ...], other: Params) -> Params:
        """These sets with the named components taken from `other` (same K)."""
        return replace(self, **{n: getattr(other, n) for n in names})


def _triangular(rng: np.random.Generator, a: Assumption, k: int) -> np.ndarray:
    """k draws over an assumption's range, peaked at its default (first draw: the default)."""
    if a.high <= a.low:
        return np.full(k, a.default)
    draws = rng.triangular(a.low, a.default, a.high, k)
    draws[0] = a.default
    return draws


def replicate_params(learned: Learned, assumptions: Assumptions, seed: int) -> Params:
    """The learned replicates with the assumptions drawn over their ranges (row 0: point)."""
    k = learned.weights.shape[0]
    rng = np.random.default_rng([seed, 1])
    windows = learned.regimes["window_days"].to_numpy().astype(float)
    fees = learned.regimes["restocking_fee_pct"].to_numpy().astype(float)
    eta, beta = _responses(learned.log_intent, windows, fees,
                           _triangular(rng, assumptions.window_intent_prior, k),
                           _triangular(rng, assumptions.fee_deterrence_prior, k))
    rush = learned.rush
    if rush.shape[2] == 0:
        prior = _triangular(rng, assumptions.rush_share_prior, k)
        rush = np.broadcast_to(prior[:, None, None], (k, len(learned.categories), 1)).copy()
    return Params(
        family=learned.family, p1=learned.p1, p2=learned.p2, rush=rush,
        eta=eta, beta=beta,
        label_deterrence=_triangular(rng, assumptions.label_fee_deterrence, k),
        uptake=_triangular(rng, assumptions.exchange_uptake_per_bonus, k),
        spend_effect=_triangular(rng, assumptions.later_spend_fee_effect, k),
        weights=learned.weights)


def _rush_at(learned: Learned, params: Params, window: np.ndarray) -> np.ndarray:
    """rho (K, C, W) at each window, linear in log window: between the history's deadlines
    interpolated, beyond them extended along the trend of the two nearest (the history's own
    answer to how urgency grows as the deadline shortens), within [0, 1]; flat when the history
    has one deadline or none."""
    k, c, r = params.rush.shape
    if r < 2:
        return np.broadcast_to(params.rush[:, :, :1], (k, c, len(window))).copy()
    xs = np.log(learned.rush_windows)
    at = np.log(np.maximum(window, 1.0))
    seg = np.clip(np.searchsorted(xs, at) - 1, 0, r - 2)  # (W,) the segment each window uses
    lo, hi = params.rush[:, :, seg], params.rush[:, :, seg + 1]
    t = (at - xs[seg]) / (xs[seg + 1] - xs[seg])
    return np.clip(lo + (hi - lo) * t[None, None, :], 0.0, 1.0)


def _returned_share(learned: Learned, params: Params, window: np.ndarray) -> np.ndarray:
    """V (K, C, W): share of intent returned under each window (decided in time, or rushed)."""
    f = _cdf(params.family[:, :, None], params.p1[:, :, None], params.p2[:, :, None],
             window[None, None, :])
    return f + _rush_at(learned, params, window) * (1 - f)


@dataclass(frozen=True)
class Cohort:
    """A baseline cohort aggregated into cells × blocks for one scenario."""

    cells: pl.DataFrame  # one row per cell, block and kept flag with the money sums
    customers: pl.DataFrame  # per block: customers returning, affected, later spend sums
    rto_cost: np.ndarray  # (BLOCKS,) RTO net cost (no policy moves it)
    observed: dict[str, float]
    units_sold: int


SUMS = ("quantity", "lines", "refund_amount", "restocking_fee", "fee_base",
        "return_shipping_cost", "handling_cost", "exchange_cost", "recovered_value",
        "replacement_cost", "net_cost")


def cohort(learned: Learned, scenario: Scenario, date_from: date | None,
           date_to: date | None) -> Cohort:
    """The cohort of orders dated in [date_from, date_to] aggregated for `scenario`."""
    lines = learned.lines
    sales = learned.sales
    if date_from is not None:
        lines = lines.filter(pl.col("order_date") >= date_from)
        sales = sales.filter(pl.col("order_date") >= date_from)
    if date_to is not None:
        lines = lines.filter(pl.col("order_date") <= date_to)
        sales = sales.filter(pl.col("order_date") <= date_to)
    unknown = set(scenario.categories or ()) - set(learned.categories)
    if unknown:
        raise ValueError(f"category {sorted(unknown)[0]!r} is not in the warehouse; "
                         f"categories: {', '.join(learned.categories)}")
    scope = (pl.col("category").is_in(list(scenario.categories)) if scenario.categories
             else pl.lit(True))
    customer = lines.filter(pl.col("customer"))
    rto = lines.filter(~pl.col("customer"))
    window = pl.col("regime").replace_strict(
        dict(enumerate(learned.regimes["window_days"].to_list())), default=None)
    fee0 = pl.col("regime").replace_strict(
        dict(enumerate(learned.regimes["restocking_fee_pct"].to_list())), default=0.0)
    customer = customer.with_columns(
        scope.alias("scope"), window.alias("window0"), fee0.alias("fee0"),
        # naive: a return later than the new window is cut, nothing else moves
        ~(scope & pl.col("lag").is_not_null() & (pl.col("lag") >= scenario.window_days)
          & (window.is_null() | (scenario.window_days < window))).alias("kept"))
    cells = customer.with_columns(pl.col("regime").fill_null(-1)).group_by(
        "cat", "regime", "group", "exchange", "scope", "kept", "block", maintain_order=True).agg(
        *(pl.col(c).sum() for c in SUMS if c != "lines"), pl.len().alias("lines"))
    fee_lines = (pl.col("scope") & (pl.col("group") == GROUPS.index("choice"))
                 & (pl.col("fee_base") > 0))
    charged = (scenario.restocking_fee_pct > 0) | (scenario.label_fee > 0)
    new_fee = fee_lines & (pl.col("fee0") == 0) & pl.lit(charged)
    removed = fee_lines & (pl.col("fee0") > 0) & pl.lit(not charged)
    more_fee = fee_lines & pl.lit(scenario.label_fee > 0) | (
        fee_lines & (pl.lit(scenario.restocking_fee_pct) > pl.col("fee0")))
    cut = ~pl.col("kept")
    per_customer = customer.sort("requested_date", "customer_id").group_by(
        "customer_id", maintain_order=True).agg(
        pl.col("block").first(), pl.col("later_spend").first(),
        new_fee.any().alias("new_fee"), removed.any().alias("removed"),
        (more_fee | cut | removed).any().alias("affected"))
    customers = per_customer.group_by("block", maintain_order=True).agg(
        pl.len().alias("returning"), pl.col("affected").sum(),
        pl.col("later_spend").sum().alias("later_spend"),
        pl.col("later_spend").filter(pl.col("new_fee")).sum().alias("spend_new_fee"),
        pl.col("later_spend").filter(pl.col("removed")).sum().alias("spend_removed"))
    rto_cost = np.zeros(BLOCKS)
    rto_blocks = rto.group_by("block", maintain_order=True).agg(pl.col("net_cost").sum())
    rto_cost[rto_blocks["block"].to_numpy()] = rto_blocks["net_cost"].to_numpy()
    observed = {
        "units_returned": float(customer["quantity"].sum()),
        "refunds": float(customer["refund_amount"].sum()),
        "fee_revenue": float(customer["restocking_fee"].sum()),
        "reverse_logistics": float(lines["return_shipping_cost"].sum()
                                   + lines["handling_cost"].sum()),
        "exchange_cost": float(customer["exchange_cost"].sum()),
        "recovered_value": float(customer["recovered_value"].sum()),
        "net_cost": float(lines["net_cost"].sum()),
        "customers_affected": 0.0,
        "later_purchases": float(per_customer["later_spend"].sum()),
    }
    return Cohort(cells=cells, customers=customers, rto_cost=rto_cost, observed=observed,
                  units_sold=int(sales["units_sold"].sum()))


def evaluate(learned: Learned, cohort_: Cohort, scenario: Scenario, params: Params,
             outcome_weights: np.ndarray | None = None, naive: bool = False
             ) -> dict[str, np.ndarray]:
    """Every metric (K,) of `scenario` on the cohort under K parameter sets.

    `outcome_weights` (K, BLOCKS) weigh the cohort's blocks (default: the params' own);
    `naive` cuts returns later than the new window and moves nothing else.
    """
    cells = cohort_.cells
    blocks = cells["block"].to_numpy()
    w = (params.weights if outcome_weights is None else outcome_weights)[:, blocks].T  # (N, K)
    cat = cells["cat"].to_numpy()
    regime = cells["regime"].to_numpy()
    known = regime >= 0
    reg = np.where(known, regime, 0)
    windows0 = learned.regimes["window_days"].to_numpy().astype(float)
    fees0 = learned.regimes["restocking_fee_pct"].to_numpy().astype(float)
    scope = cells["scope"].to_numpy() & known
    choice = cells["group"].to_numpy() == GROUPS.index("choice")
    exchange = cells["exchange"].to_numpy()
    kept = cells["kept"].to_numpy()
    s = {c: cells[c].to_numpy().astype(float)[:, None] for c in SUMS}
    f0 = fees0[reg][:, None]
    f1 = np.where(scope, scenario.restocking_fee_pct, fees0[reg])[:, None]
    label = np.where(scope & choice, scenario.label_fee, 0.0)[:, None]
    if naive:
        mult = np.where(kept, 1.0, 0.0)[:, None] * np.ones((1, w.shape[1]))
        uptake = np.zeros((1, w.shape[1]))
    else:
        share = _returned_share(learned, params,
                                np.r_[windows0, float(scenario.window_days)])  # (K, C, R+1)
        v0 = share[:, cat, reg].T  # (N, K)
        v1 = share[:, cat, -1].T
        ratio_w = (scenario.window_days / windows0[reg])[:, None]
        time = np.where(scope[:, None], v1 / v0 * ratio_w ** (-params.eta[None, :]), 1.0)
        price = np.where(choice & ~exchange, 1.0, 0.0)[:, None]  # a refund a fee is kept from
        deter = np.exp(-params.beta[None, :] * (f1 - f0) * price)
        deter = deter * np.where(label > 0, 1 - params.label_deterrence[None, :], 1.0)
        mult = time * np.where(scope[:, None] & choice[:, None], deter, 1.0)
        uptake = np.minimum(0.9, params.uptake[None, :] * scenario.exchange_bonus)
    m = mult * w
    fee_s = f1 * s["fee_base"] * m
    pre = np.where(choice[:, None] & ~exchange[:, None],
                   (s["refund_amount"] + s["restocking_fee"]) * m - fee_s,
                   s["refund_amount"] * m)
    fee_s = np.where(choice[:, None] & ~exchange[:, None], fee_s, s["restocking_fee"] * m)
    # the label fee is kept from a refund; on an exchange the customer pays it
    label_s = label * s["lines"] * m
    refund_s = np.where(exchange[:, None], pre, pre - np.minimum(label_s, np.maximum(pre, 0)))
    label_extra = label_s - (pre - refund_s)  # paid on top of the refund
    switch = np.where(scope & choice & ~exchange & (s["fee_base"][:, 0] > 0), 1.0, 0.0)[:, None]
    switch = switch * np.broadcast_to(uptake, m.shape)
    bonus = scenario.exchange_bonus
    exchange_s = s["exchange_cost"] * m + switch * (s["replacement_cost"] * m
                                                    + bonus * s["fee_base"] * m)
    # a return switched to an exchange refunds nothing; its label fee is paid on top
    label_extra = (1 - switch) * label_extra + switch * label_s
    refund_s = refund_s * (1 - switch)
    kept_fees = fee_s * (1 - switch)
    logistics = (s["return_shipping_cost"] + s["handling_cost"]) * m
    recovered = s["recovered_value"] * m
    net_customer = refund_s + logistics + exchange_s - recovered - label_extra
    kw = params.weights if outcome_weights is None else outcome_weights
    rto = kw @ cohort_.rto_cost  # (K,)
    customers = cohort_.customers
    cb = customers["block"].to_numpy()
    cw = kw[:, cb]  # (K, n)
    affected = cw @ customers["affected"].to_numpy().astype(float)
    effect = params.spend_effect
    later = (cw @ customers["later_spend"].to_numpy()
             + effect * (cw @ customers["spend_new_fee"].to_numpy())
             - effect * (cw @ customers["spend_removed"].to_numpy()))
    if naive:
        later = cw @ customers["later_spend"].to_numpy()
    return {
        "units_returned": (s["quantity"] * m).sum(axis=0),
        "refunds": refund_s.sum(axis=0),
        "fee_revenue": (kept_fees + label_s).sum(axis=0),
        "reverse_logistics": logistics.sum(axis=0) + kw @ cohort_rto_logistics(cohort_),
        "exchange_cost": exchange_s.sum(axis=0),
        "recovered_value": recovered.sum(axis=0),
        "net_cost": net_customer.sum(axis=0) + rto,
        "customers_affected": affected,
        "later_purchases": later,
    }


def cohort_rto_logistics(cohort_: Cohort) -> np.ndarray:
    """RTO reverse logistics per block: an RTO's whole net cost is shipping and handling."""
    return cohort_.rto_cost


@dataclass(frozen=True)
class Result:
    """A simulated scenario: one row per metric with baseline, point, interval and naive."""

    scenario: Scenario
    date_from: date | None
    date_to: date | None
    table: pl.DataFrame
    sensitivity: pl.DataFrame  # input, low/high value of net cost, what the input is
    units_sold: int
    seed: int

    def metric(self, name: str) -> dict[str, float]:
        """The row of one metric as a dict."""
        return self.table.filter(pl.col("metric") == name).to_dicts()[0]

    def as_json(self) -> dict[str, object]:
        """The result in the CLI's JSON shape (stable keys)."""
        out: dict[str, object] = {
            "scenario": {"window_days": self.scenario.window_days,
                         "restocking_fee_pct": self.scenario.restocking_fee_pct,
                         "label_fee": self.scenario.label_fee,
                         "exchange_bonus": self.scenario.exchange_bonus,
                         "categories": list(self.scenario.categories or [])},
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "units_sold": self.units_sold, "seed": self.seed,
            "interval": "80%",
        }
        baseline: dict[str, float] = {}
        scen: dict[str, object] = {}
        naive: dict[str, float] = {}
        for row in self.table.to_dicts():
            name = row["metric"]
            baseline[name] = round(row["baseline"], 2)
            scen[name] = round(row["point"], 2)
            scen[f"{name}_low"] = round(row["low"], 2)
            scen[f"{name}_high"] = round(row["high"], 2)
            naive[name] = round(row["naive"], 2)
        scen["window_days"] = self.scenario.window_days
        out["baseline"] = baseline
        out["scenario"] = {**out["scenario"], **scen}  # type: ignore[dict-item]
        out["naive"] = naive
        out["sensitivity"] = self.sensitivity.to_dicts()
        return out


SENSITIVITY_INPUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lag_curve": ("Days-to-return curves (learned)", ("family", "p1", "p2")),
    "rush": ("Deadline rush share (learned)", ("rush",)),
    "eta": ("Window effect on intent (learned, or assumed when confounded)", ("eta", "beta")),
    "beta": ("Fee deterrence (learned)", ("beta",)),
    "label_fee_deterrence": ("Label fee deterrence (assumption)", ("label_deterrence",)),
    "exchange_uptake_per_bonus": ("Exchange bonus uptake (assumption)", ("uptake",)),
    "later_spend_fee_effect": ("Later purchases after a paid return (assumption)",
                               ("spend_effect",)),
}


def simulate(learned: Learned, scenario: Scenario, date_from: date | None = None,
             date_to: date | None = None, assumptions: Assumptions | None = None,
             seed: int = 0) -> Result:
    """The scenario on the cohort of orders dated in [date_from, date_to], with 80% intervals."""
    assumptions = assumptions or Assumptions()
    data = cohort(learned, scenario, date_from, date_to)
    params = replicate_params(learned, assumptions, seed)
    k = params.weights.shape[0]
    point_params = params.take(np.zeros(k, dtype=int))
    point = {m: v[0] for m, v in evaluate(learned, data, scenario, point_params.take(
        np.array([0]))).items()}
    reps = evaluate(learned, data, scenario, params)
    # a new outcome's noise: the point model on independently reweighted customers
    fresh = evaluate(learned, data, scenario, point_params, outcome_weights=learned.noise)
    naive = {m: v[0] for m, v in evaluate(learned, data, scenario, point_params.take(
        np.array([0])), naive=True).items()}
    rows = []
    for metric in METRICS:
        draws = reps[metric] + (fresh[metric] - point[metric])
        low, high = np.quantile(draws, INTERVAL)
        rows.append({"metric": metric, "label": METRIC_LABELS[metric],
                     "money": metric in MONEY_METRICS,
                     "baseline": data.observed[metric], "point": float(point[metric]),
                     "low": float(min(low, point[metric])),
                     "high": float(max(high, point[metric])),
                     "naive": float(naive[metric])})
    table = pl.DataFrame(rows).with_columns(
        (pl.col("point") - pl.col("baseline")).alias("change"))
    return Result(scenario=scenario, date_from=date_from, date_to=date_to, table=table,
                  sensitivity=_sensitivity(learned, data, scenario, params, point_params,
                                           assumptions, float(point["net_cost"])),
                  units_sold=data.units_sold, seed=seed)


def _sensitivity(learned: Learned, data: Cohort, scenario: Scenario, params: Params,
                 point_params: Params, assumptions: Assumptions, point: float
                 ) -> pl.DataFrame:
    """Net cost when one input moves and the rest stay at their point: a tornado's bars.

    A learned input spans the 10th-90th percentile of its bootstrap replicates; an assumption
    its stated range.
    """
    rows = []
    ranges = {"label_fee_deterrence": "label_deterrence", "exchange_uptake_per_bonus": "uptake",
              "later_spend_fee_effect": "spend_effect"}
    for key, (label, components) in SENSITIVITY_INPUTS.items():
        if key in ranges:
            a: Assumption = getattr(assumptions, key)
            two = point_params.take(np.array([0, 0]))
            values = []
            for bound in (a.low, a.high):
                one = replace(two.take(np.array([0])),
                              **{ranges[key]: np.array([bound])})
                values.append(float(evaluate(learned, data, scenario, one)["net_cost"][0]))
            low, high = min(values), max(values)
            spec = f"{a.low:g} to {a.high:g}"
        else:
            varied = point_params.swap(components, params)
            costs = evaluate(learned, data, scenario, varied,
                             outcome_weights=point_params.weights)["net_cost"]
            low, high = (float(v) for v in np.quantile(costs, INTERVAL))
            spec = "bootstrap 10th-90th percentile"
        rows.append({"input": key, "label": label, "net_cost_low": low, "net_cost_high": high,
                     "swing": high - low, "range": spec, "point": point})
    return pl.DataFrame(rows).sort("swing", descending=True)


# ----------------------------------------------------------------------------- plumbing


def read_history(conn: object) -> History:
    """The history the simulator learns from, through the read layer."""
    from warehouse import read

    return History(policy=read.policy.policy_history(conn),  # type: ignore[arg-type]
                   returns=read.policy.return_lines(conn),  # type: ignore[arg-type]
                   sales=read.policy.sales_daily(conn),  # type: ignore[arg-type]
                   spend=read.policy.customer_spend(conn))  # type: ignore[arg-type]


_MEMORY: dict[tuple[str, str, int], Learned] = {}


@cache
def _code_version() -> str:
    """This module's contents, hashed: what learned a cached history (read once, when needed)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def learned_for(url: str, seed: int = SEED, cache_dir: Path | None = None,
                reader: Callable[[], tuple[str, History]] | None = None) -> Learned:
    """The learned history of the warehouse at `url`, cached in memory and on disk per
    warehouse version and seed (the first call learns; later calls, in any process, load).
    The pipeline learns it after each run (flows.pipeline), so the Policy Lab's first visit
    loads it; a newer version's file replaces the warehouse's older ones."""
    from warehouse.engine import reader_engine
    from warehouse.read.runs import latest_run_id
    from warehouse.settings import Settings

    with reader_engine(url).connect() as conn:
        version = latest_run_id(conn) or "empty"
        key = (url, version, seed)
        if key in _MEMORY:
            return _MEMORY[key]
        directory = cache_dir or Settings().data_dir / "cache" / "policy"
        # <warehouse>-<seed>-<version>: a new version replaces the older ones (62 MB at 1M);
        # the version is the warehouse's and this module's, so an upgrade learns afresh
        warehouse = hashlib.sha256(url.encode()).hexdigest()[:16]
        code = _code_version()
        digest = hashlib.sha256(f"{version}|{REPLICATES}|{code}".encode()).hexdigest()[:16]
        path = directory / f"{warehouse}-{seed}-{digest}.pickle"
        if path.exists():
            with path.open("rb") as handle:
                learned = pickle.load(handle)  # noqa: S301 - our own cache file
        else:
            history = reader()[1] if reader else read_history(conn)
            learned = learn(history, seed=seed)
            directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.tmp")  # writers never share
            with tmp.open("wb") as handle:
                pickle.dump(learned, handle, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
            for older in directory.glob(f"{warehouse}-{seed}-*.pickle"):
                if older != path:
                    older.unlink(missing_ok=True)
    for older_key in [k for k in _MEMORY if k[0] == url and k[2] == seed]:
        del _MEMORY[older_key]  # a long-running server keeps the newest version only
    _MEMORY[key] = learned
    return learned


def scenario_row(result: Result, name: str, saved_at: object) -> pl.DataFrame:
    """One saved-scenario row: the scenario, the period and every metric with its interval."""
    row: dict[str, object] = {"name": name, "saved_at": saved_at,
                              "window_days": result.scenario.window_days,
                              "restocking_fee_pct": result.scenario.restocking_fee_pct,
                              "label_fee": result.scenario.label_fee,
                              "exchange_bonus": result.scenario.exchange_bonus,
                              "categories": ", ".join(result.scenario.categories or ()),
                              "date_from": result.date_from, "date_to": result.date_to,
                              "seed": result.seed}
    for r in result.table.to_dicts():
        for part in ("baseline", "point", "low", "high", "naive"):
            row[f"{r['metric']}_{part}"] = r[part]
    return pl.DataFrame([row])


def assumptions_table(assumptions: Assumptions) -> pl.DataFrame:
    """The assumptions as rows: name, default, range, meaning, source."""
    return pl.DataFrame([{"name": n, **asdict(getattr(assumptions, n))}
                         for n in assumptions.names()])


def save_scenario(url: str, result: Result, name: str) -> pl.DataFrame:
    """Add `result` to the saved scenarios (replacing one of the same name) and publish them
    all as derived output "policy" (table models.policy_scenarios); returns the saved rows."""
    from warehouse import derived, read
    from warehouse.engine import reader_engine
    from warehouse.load import utcnow
    from warehouse.read.runs import latest_run_id

    with reader_engine(url).connect() as conn:
        saved = read.policy.saved_scenarios(conn)
        snapshot = latest_run_id(conn)
    row = scenario_row(result, name, utcnow())
    if not saved.is_empty():
        saved = saved.filter(pl.col("name") != name)
        row = pl.concat([saved, row], how="diagonal_relaxed")
    derived.publish(url, "policy", {"policy_scenarios": row},
                    params={"saved": row["name"].to_list()},
                    metrics={"scenarios": row.height}, snapshot=snapshot)
    return row
