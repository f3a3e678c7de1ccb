"""Same seed, same shop: a content hash pins the synthetic shop byte for byte.

A refactor that keeps every random draw in its order keeps the constants. Change them only with
a commit that says why. History: pinned on the single-module generator; the package split kept
them; changed once when customers began to respond to the return policy (the default history's
2025 policy, 14 days and a 10 % fee, now raises urgency and deters marginal returns, which
changes the returns of lines ordered from 2025-04-01 and every draw after them; 2024 lines and
all orders are unchanged) and `_truth/return_policy` was added.
"""

import hashlib

import pytest

from flows.sources import synthetic


def shop_hash(shop: synthetic.Shop) -> str:
    """sha256 over every feed and truth table, by name, as CSV in the generated row order."""
    digest = hashlib.sha256()
    for kind, tables in (("feed", shop.feeds), ("truth", shop.truth)):
        for name in sorted(tables):
            digest.update(f"{kind}:{name}\n".encode())
            digest.update(tables[name].write_csv().encode())
    return digest.hexdigest()


def test_seed_5_gives_the_pinned_shop_in_one_slice():
    assert shop_hash(synthetic.generate_shop(3000, seed=5)) == PINNED_ONE_SLICE


def test_seed_5_gives_the_pinned_shop_in_several_slices(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(synthetic, "CHUNK_ORDERS", 700)
    shop = synthetic.generate_shop(3000, seed=5)
    assert shop.feeds["orders"]["order_id"].n_unique() == 3000
    assert shop_hash(shop) == PINNED_SLICED


PINNED_ONE_SLICE = "3ab6bd0d2e5d8e96319c20ccdc3d44e06d5dd34c2db9979e0459e5ac38657821"
PINNED_SLICED = "c364e3d8b4f1628c665895f6f34b3703a12a436e22cacfcd69d8438e4f285172"
