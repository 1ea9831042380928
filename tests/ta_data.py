"""Seeded OHLCV series for indicator tests: random walks, flat and gapped series, many lengths."""

from __future__ import annotations

import numpy as np

LENGTHS = [1, 2, 3, 5, 14, 30, 35, 100, 1000, 10_000]


def random_walk(n: int, seed: int, gaps: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 0.6, n)
    if gaps and n > 10:
        jumps = rng.random(n) < 0.02
        steps[jumps] += rng.choice([-1, 1], jumps.sum()) * rng.uniform(3, 8, jumps.sum())
    close = 100 + np.cumsum(steps)
    open_ = np.concatenate([[close[0]], close[:-1]]) + rng.normal(0, 0.1, n)
    high = np.maximum(open_, close) + np.abs(rng.normal(0, 0.4, n))
    low = np.minimum(open_, close) - np.abs(rng.normal(0, 0.4, n))
    volume = rng.integers(100, 10_000, n).astype(np.float64)
    # one-minute bars from 09:15 IST on consecutive days (375 bars a day)
    day = np.arange(n) // 375
    minute = np.arange(n) % 375
    time = (
        (1_764_000_000 - 1_764_000_000 % 86_400) + day * 86_400 + (3 * 3600 + 45 * 60) + minute * 60
    )
    return {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
        "time": time.astype(np.int64),
    }


def flat(n: int) -> dict[str, np.ndarray]:
    c = np.full(n, 250.0)
    return {
        "open": c.copy(),
        "high": c.copy(),
        "low": c.copy(),
        "close": c.copy(),
        "volume": np.full(n, 500.0),
        "time": np.arange(n, dtype=np.int64) * 60,
    }


def cases() -> list[tuple[str, dict[str, np.ndarray]]]:
    out = []
    for i, n in enumerate(LENGTHS):
        out.append((f"walk{n}", random_walk(n, seed=100 + i)))
    out.append(("gapped2000", random_walk(2000, seed=7, gaps=True)))
    out.append(("gapped500", random_walk(500, seed=8, gaps=True)))
    out.append(("flat300", flat(300)))
    # Prices TA-Lib accepts that markets rarely print: negative (spreads, some futures) and
    # zero, where typical-price flows and divisions by price behave differently.
    out.append(("negative2000", shifted(random_walk(2000, seed=11), -200.0)))
    out.append(("crossing1500", shifted(random_walk(1500, seed=12), -100.0)))
    out.append(("zeros500", zeroed(random_walk(500, seed=13))))
    return out


def shifted(d: dict[str, np.ndarray], by: float) -> dict[str, np.ndarray]:
    """Prices moved by `by` (a walk around 100 moved by -100 crosses zero again and again)."""
    return {k: (v + by if k in ("open", "high", "low", "close") else v) for k, v in d.items()}


def zeroed(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Stretches of bars with every price 0."""
    z = (np.arange(len(d["close"])) % 50) < 10
    return {
        k: (np.where(z, 0.0, v) if k in ("open", "high", "low", "close") else v)
        for k, v in d.items()
    }
