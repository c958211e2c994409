"""Typed settings for the ``synthetic`` section of conf/base/parameters_synthetic.yml.

No defaults here: every value lives in conf. The first stage (``generate_persons``) checks the
whole section with it; the generator's stages then read the checked dict.
"""

from omnicrm.config import Settings


class Brand(Settings):
    name: str
    imported: bool


class Noise(Settings):
    name: dict[str, dict[str, float]]
    mobile: dict[str, dict[str, float]]
    id_number: dict[str, float]
    address: dict[str, dict[str, float]]
    family_shared_mobile_share: float
    birthday_present: dict[str, float]
    email_present: float


class Events(Settings):
    views_before_purchase: float
    cart_before_purchase_p: float
    collect_before_purchase_p: float
    browse_sessions_per_year: float
    browse_per_purchase_rate: float
    views_per_session: float
    collect_per_session_p: float
    cart_per_session_p: float
    engaged_days_after_dropout: int


class Campaigns(Settings):
    count: int
    span_days: int
    window_days: int
    arms: int
    thresholds: list[float]
    discounts: list[float]
    control_share: float
    audience_share: float
    audience_rules: list[str]


class ResponseModel(Settings):
    gross_margin: float
    cost_per_offer: float
    beta_active: float
    beta_dormant: float
    sensitivity_floor: float
    sensitivity_slope: float
    sensitivity_power: float
    topup_prob_base: float
    topup_prob_slope: float


class Latent(Settings):
    """Each person's hidden traits given the value tier (the segments oracle reads these)."""

    rate_shape: float
    basket_person_sd: float
    basket_sigma: list[float]
    dropout_beta: list[float]
    dropout_scale: list[float]
    dropout_clip: list[float]
    sensitivity_beta: list[float]
    sensitivity_slope: float
    sensitivity_clip: list[float]
    promo: list[float]
    trend_chaser: list[float]


class SyntheticSettings(Settings):
    seed: int
    persons: int
    start_date: str
    end_date: str
    household_size_p: list[float]
    two_char_given_name_share: float
    common_name_share: float
    existing_base_share: float
    value_tier_share: list[float]
    purchases_per_year: list[float]
    basket_median: list[float]
    latent: Latent
    buyer_share: float
    days_to_first_purchase: float
    channel_join_p: dict[str, float]
    duplicate_registration_share: float
    skus_per_category: int
    categories: dict[str, float]
    brands: list[Brand]
    noise: Noise
    events: Events
    campaigns: Campaigns
    response_model: ResponseModel
