"""Coupon-threshold model ("spend X get Y off"): who gets a coupon (uplift learners chosen by
Qini/AUUC on held-out campaigns), which threshold X and discount Y (offer-aware purchase,
basket and redemption models), and which offers fit a discount budget."""

from .balance import CampaignDesignError, check_campaigns, standardised_mean_differences
from .policy import PLAN_COLUMNS, CouponPolicy, menu_offers
from .training import campaign_training_set, model_columns

__all__ = ["PLAN_COLUMNS", "CampaignDesignError", "CouponPolicy", "campaign_training_set",
           "check_campaigns", "menu_offers", "model_columns", "standardised_mean_differences"]
