"""Nodes of the synthetic-world pipeline: the generator's stages (omnicrm.synthetic.stages)."""

from omnicrm.synthetic.stages import (
                                      generate_campaigns,
                                      generate_catalogue,
                                      generate_events,
                                      generate_offer_outcomes,
                                      generate_orders,
                                      generate_persons,
                                      generate_records,
                                      simulate_purchases,
                                      summarise_world,
)

__all__ = ["generate_campaigns", "generate_catalogue", "generate_events",
           "generate_offer_outcomes", "generate_orders", "generate_persons", "generate_records",
           "simulate_purchases", "summarise_world"]
