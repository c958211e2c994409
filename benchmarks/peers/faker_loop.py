"""The generator people write first: a Python loop over persons with Faker('zh_CN'), one dict
per row, then one DataFrame per table written to Parquet.

Per person: name, mobile, resident ID, address and email; one channel member record; and
Poisson(3) orders, each with a random time and amount. It produces far less than our
generator (no households, noise, second channels, items, events, campaigns or ground truth),
so comparing with it flatters the peer, not us.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from faker import Faker

CHANNELS = ["pos", "tmall", "wechat", "web"]
START, END = datetime(2024, 1, 1), datetime(2026, 10, 31)


def generate(persons: int, scratch: Path, seed: int = 42) -> dict:
    """Write persons, member records and orders for ``persons`` people under ``scratch``."""
    fake = Faker("zh_CN")
    Faker.seed(seed)
    random.seed(seed)
    rng = np.random.default_rng(seed)
    people, records, orders = [], [], []
    for i in range(persons):
        person_id = f"P{i + 1:08d}"
        people.append({
            "person_id": person_id,
            "name": fake.name(),
            "mobile": fake.phone_number(),
            "id_number": fake.ssn(),
            "address": fake.address(),
            "email": fake.email(),
        })
        channel = random.choice(CHANNELS)
        record_id = f"{channel.upper()}-{i + 1:08d}"
        registered_at = fake.date_time_between(START, END)
        records.append({"record_id": record_id, "person_id": person_id, "channel": channel,
                        "registered_at": registered_at})
        for _ in range(rng.poisson(3)):
            orders.append({
                "order_id": f"O{len(orders) + 1:09d}",
                "record_id": record_id,
                "ordered_at": fake.date_time_between(registered_at, END),
                "paid_amount": round(random.lognormvariate(5.3, 0.6), 2),
            })
    tables = {"persons": people, "records": records, "orders": orders}
    for name, rows in tables.items():
        pd.DataFrame(rows).to_parquet(scratch / f"{name}.parquet", index=False)
    return {"rows": {name: len(rows) for name, rows in tables.items()},
            "bytes_written": sum(p.stat().st_size for p in scratch.glob("*.parquet"))}
