"""Reverse logistics: who carries each return, pickup attempts that fail (NPR), and the scan
events the carriers report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from flows.sources.synthetic.base import N_DAYS, choice, to_ts
from flows.sources.synthetic.catalogue import (
    CARRIER_CODES,
    CARRIERS,
    PICKUP_CLAIM,
    REGION_CODES,
    REGION_ZONE,
    REGIONS,
)
from flows.sources.synthetic.demand import Demand
from flows.sources.synthetic.propensity import Decisions
from flows.sources.synthetic.world import World
from warehouse.contract import FAILURE_REASONS, FEEDS

# which carriers serve a country, with their share of its pickups
CARRIER_ALLOCATION = {
    "ID": {"KILAT": 0.55, "SWIFT": 0.45},
    "SG": {"SWIFT": 0.7, "KILAT": 0.3},
    "MY": {"SWIFT": 0.5, "KILAT": 0.5},
    "RU": {"NORD": 0.75, "SWIFT": 0.25},
    "KR": {"HANA": 0.8, "SWIFT": 0.2},
    "CN": {"DRAGON": 0.65, "HANA": 0.35},
}
# NPR failure-reason mix per carrier (order of FAILURE_REASONS in the contract)
FAILURE_MIX = {
    "SWIFT": (0.45, 0.20, 0.20, 0.10, 0.05),
    "KILAT": (0.35, 0.20, 0.15, 0.10, 0.20),
    "NORD": (0.50, 0.15, 0.20, 0.10, 0.05),
    "HANA": (0.50, 0.15, 0.20, 0.12, 0.03),
    "DRAGON": (0.30, 0.25, 0.15, 0.10, 0.20),
}
INCIDENT_FAILURE_MIX = (0.15, 0.05, 0.05, 0.05, 0.70)  # the courier stops trying
MAX_ATTEMPTS = 4  # three tries, and a fourth that pickup-claim abusers also "miss"


@dataclass(frozen=True)
class Pickups:
    """Per customer return: carrier, pickup or drop-off, attempts, and when it arrived."""

    request: np.ndarray  # day the return was requested
    region: np.ndarray
    zone: np.ndarray
    carrier: np.ndarray  # index into CARRIERS
    claim_abuse: np.ndarray  # abuse kind of this return (a pickup claimer is honest half the time)
    pickup: np.ndarray  # a carrier picks up (else the customer drops it off)
    scheduled: np.ndarray
    attempt_days: np.ndarray  # (returns × MAX_ATTEMPTS), NaN where no attempt
    attempt_fail: np.ndarray
    attempt_reason: np.ndarray  # index into FAILURE_REASONS, -1 where none
    n_attempts: np.ndarray
    picked: np.ndarray
    pickup_at: np.ndarray
    transit_at: np.ndarray
    received: np.ndarray  # at the warehouse; NaN if never or after the export


def allocation() -> np.ndarray:
    """Share of each region's (row) pickups per carrier (column)."""
    alloc = np.zeros((len(REGIONS), len(CARRIERS)))
    for ri, reg in enumerate(REGIONS):
        for code, share in CARRIER_ALLOCATION[reg[2]].items():
            alloc[ri, CARRIER_CODES.index(code)] = share
    return alloc


def pickups(
    world: World, rng: np.random.Generator, demand: Demand, decisions: Decisions
) -> Pickups:
    """Pickups fail with the carrier × region × weekday NPR rate of the day, more so during the
    incident and always for pickup-claim abusers; drop-offs just arrive."""
    idx = decisions.lines
    m = len(idx)
    order = demand.lines.order[idx]
    r_region = demand.orders.region[order]
    r_zone = REGION_ZONE[r_region]
    r_carrier = choice(rng, allocation()[r_region])
    r_abuse = world.customers.abuse[demand.lines.customer[idx]]
    # a pickup-claim abuser claims on about half of their returns and returns the rest honestly
    r_abuse = np.where((r_abuse == PICKUP_CLAIM) & (rng.random(m) < 0.5), -1, r_abuse)
    claimer = r_abuse == PICKUP_CLAIM
    pickup = (rng.random(m) >= 0.12) | claimer
    req = decisions.request_day[idx]

    scheduled = np.floor(req) + 1 + 0.35 + rng.uniform(0, 0.2, m)
    base_npr = np.array([c[3] for c in CARRIERS])[r_carrier]
    weekend_up = np.array([c[4] for c in CARRIERS])[r_carrier]
    region_npr = rng.normal(0, 0.02, (len(REGIONS), len(CARRIERS))).clip(-0.03, 0.05)
    region_npr[[r[0] for r in REGIONS].index("ID-SU")] += 0.04  # North Sumatra is hard
    attempt_days = np.full((m, MAX_ATTEMPTS), np.nan)
    attempt_fail = np.zeros((m, MAX_ATTEMPTS), dtype=bool)
    attempt_reason = np.full((m, MAX_ATTEMPTS), -1)
    done = ~pickup
    day = scheduled.copy()
    incident = world.planted.incident
    inc_carrier = CARRIER_CODES.index(incident[0])
    inc_region = [r[0] for r in REGIONS].index(incident[1])
    mix_of = np.array([FAILURE_MIX[c] for c in CARRIER_CODES])[r_carrier]
    for k in range(MAX_ATTEMPTS):
        active = ~done
        attempt_days[active, k] = day[active] + 0.05
        wd = np.floor(day).astype(int) % 7  # START is a Monday
        in_incident = (
            (r_carrier == inc_carrier)
            & (r_region == inc_region)
            & (day >= incident[2])
            & (day < incident[3])
        )
        p_fail = base_npr + weekend_up * (wd >= 5) + region_npr[r_region, r_carrier]
        p_fail = np.where(in_incident, p_fail + 0.38, p_fail)
        p_fail = np.where(claimer, 0.93, p_fail)
        fails = active & (rng.random(m) < p_fail) & ((k < MAX_ATTEMPTS - 1) | claimer)
        mix = np.where(in_incident[:, None], np.array(INCIDENT_FAILURE_MIX), mix_of)
        mix = np.where(claimer[:, None], np.array((1.0, 0, 0, 0, 0)), mix)
        attempt_reason[:, k] = np.where(fails, choice(rng, mix), -1)
        attempt_fail[:, k] = fails
        done = done | (active & ~fails)
        day = np.where(fails, np.floor(day) + 1 + 0.35 + rng.uniform(0, 0.2, m), day)
    n_attempts = (~np.isnan(attempt_days)).sum(axis=1)
    last = np.maximum(n_attempts - 1, 0)
    picked = pickup & ~attempt_fail[np.arange(m), last]
    pickup_at = np.where(
        picked, attempt_days[np.arange(m), last] + rng.uniform(0.05, 0.3, m), np.nan
    )
    transit_at = pickup_at + rng.uniform(0.3, 0.8, m)
    received = np.where(
        pickup,
        pickup_at + 0.5 + r_zone * rng.gamma(2.0, 0.6, m),
        req + 1.5 + rng.gamma(2.0, 1.2, m),
    )
    received = np.where(received > N_DAYS, np.nan, received)
    return Pickups(
        request=req,
        region=r_region,
        zone=r_zone,
        carrier=r_carrier,
        claim_abuse=r_abuse,
        pickup=pickup,
        scheduled=scheduled,
        attempt_days=attempt_days,
        attempt_fail=attempt_fail,
        attempt_reason=attempt_reason,
        n_attempts=n_attempts,
        picked=picked,
        pickup_at=pickup_at,
        transit_at=transit_at,
        received=received,
    )


def scans(
    rng: np.random.Generator, offset: int, return_ids: np.ndarray, p: Pickups
) -> pl.DataFrame:
    """Scan events of every reverse pickup, as the carriers report them."""
    carrier = np.asarray(CARRIER_CODES)[p.carrier]
    region = REGION_CODES[p.region]
    idx = np.flatnonzero(p.pickup)
    n_att = (~np.isnan(p.attempt_days[idx])).sum(axis=1)
    parts = []

    def events(
        rows: np.ndarray,
        code: str,
        at: np.ndarray,
        attempt: np.ndarray,
        reason: np.ndarray | None = None,
    ) -> None:
        keep = ~np.isnan(at) & (at <= N_DAYS)
        parts.append(
            pl.DataFrame(
                {
                    "row": rows[keep],
                    "return_id": return_ids[rows[keep]].tolist(),
                    "carrier": carrier[rows[keep]].tolist(),
                    "event_code": [code] * int(keep.sum()),
                    "failure_reason": (None if reason is None else reason[keep].tolist()),
                    "attempt": attempt[keep].astype(np.int64),
                    "event_day": at[keep],
                    "region": region[rows[keep]].tolist(),
                },
                schema_overrides={  # explicit, so that a slice without pickups still stacks
                    "row": pl.Int64,
                    "attempt": pl.Int64,
                    "event_day": pl.Float64,
                    "return_id": pl.String,
                    "carrier": pl.String,
                    "event_code": pl.String,
                    "failure_reason": pl.String,
                    "region": pl.String,
                },
            )
        )

    events(idx, "pickup_scheduled", p.scheduled[idx] - 0.3, np.ones(len(idx)))
    for k in range(p.attempt_days.shape[1]):
        has = n_att > k
        rows = idx[has]
        at = p.attempt_days[rows, k]
        events(rows, "out_for_pickup", at, np.full(len(rows), k + 1))
        failed = p.attempt_fail[rows, k]
        reasons = np.asarray(FAILURE_REASONS, dtype=object)[
            np.maximum(p.attempt_reason[rows, k], 0)
        ]
        events(
            rows[failed],
            "pickup_failed",
            at[failed] + rng.uniform(0.05, 0.35, failed.sum()),
            np.full(failed.sum(), k + 1),
            reasons[failed],
        )
    events(idx, "picked_up", p.pickup_at[idx], n_att)
    events(idx, "in_transit", p.transit_at[idx], n_att)
    events(
        idx,
        "delivered_to_warehouse",
        np.where(np.isnan(p.pickup_at[idx]), np.nan, p.received[idx]),
        n_att,
    )
    stacked = pl.concat(parts).sort(["row", "event_day"])
    n = stacked.height
    return stacked.select(
        scan_id=pl.lit("S") + pl.Series(offset + np.arange(n)).cast(pl.String).str.zfill(9),
        return_id="return_id",
        awb=pl.col("carrier") + pl.col("return_id").str.slice(1),
        carrier="carrier",
        event_code="event_code",
        failure_reason="failure_reason",
        attempt="attempt",
        event_at=to_ts(stacked["event_day"].to_numpy()),
        region="region",
    ).cast(FEEDS["carrier_scans"].schema)  # type: ignore[arg-type]
