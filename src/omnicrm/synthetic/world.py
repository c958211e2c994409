"""Generate a whole world in memory, without a Kedro project on disk (tests, benchmarks and
notebooks that want a throw-away world): the ``synthetic`` pipeline's stages, run in order."""

from __future__ import annotations

import pandas as pd

from . import stages


def default_params(env: str | None = None) -> dict:
    """The project's ``synthetic`` parameters (conf/base/parameters_synthetic.yml, merged with
    ``env``), read through Kedro's config loader."""
    from omnicrm.config import load_parameters

    return load_parameters(env)["synthetic"]


def generate_world(persons: int | None = None, seed: int | None = None,
                   overrides: dict | None = None, summary: bool = False,
                   params: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every table the ``synthetic`` pipeline writes (raw tables under their names, truth
    under ``truth_*``), from ``params`` (default: the project's) with ``persons``, ``seed``
    and dotted ``overrides`` applied."""
    from omnicrm.config import with_overrides

    base = params if params is not None else default_params()
    extra = dict(overrides or {})
    if persons is not None:
        extra["persons"] = persons
    if seed is not None:
        extra["seed"] = seed
    p = with_overrides(base, extra)

    people = stages.generate_persons(p)
    stores, products = stages.generate_catalogue(p)
    natural, state, truth_persons = stages.simulate_purchases(people, p)
    pos, tmall, wechat, web, truth_records = stages.generate_records(people, stores, p)
    members = (pos, tmall, wechat, web)
    campaigns, offers, campaign_members, sends, purchases, truth_outcomes = \
        stages.generate_campaigns(people, state, natural, truth_records, *members, p)
    orders, items, redemptions = stages.generate_orders(people, stores, products, truth_records,
                                                        *members, purchases, p)
    events = stages.generate_events(people, products, truth_records, *members, orders, items,
                                    truth_persons, p)
    world = {"stores": stores, "products": products, "truth_persons": truth_persons,
             "pos_members": pos, "tmall_members": tmall, "wechat_members": wechat,
             "web_members": web, "truth_records": truth_records, "campaigns": campaigns,
             "campaign_offers": offers, "campaign_members": campaign_members,
             "campaign_sends": sends, "truth_campaign_outcomes": truth_outcomes,
             "orders": orders, "order_items": items, "coupon_redemptions": redemptions,
             "events": events,
             "truth_offer_outcomes": stages.generate_offer_outcomes(people, state, p)}
    if summary:
        world["world_summary"], world["world_metrics"] = stages.summarise_world(
            truth_persons, truth_records, orders, events, campaign_members, redemptions,
            truth_outcomes, world["truth_offer_outcomes"])
    return dict(sorted(world.items()))
