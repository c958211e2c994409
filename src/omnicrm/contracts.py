"""Schema contracts of the raw tables and the hidden truth: one spec that validates, documents
and marks personal data.

Every table that a pipeline reads from ``data/01_raw`` (ours or a user's export) is checked
against its contract when it is loaded: missing columns, wrong types, unparseable dates, empty
tables, nulls where none are allowed and duplicate primary keys fail with one message naming the
table, the column and a few offending rows. ``docs/data_dictionary.md`` is generated from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from kedro.io import DatasetError

# Logical types, mapped to pandas dtypes. Strings stay strings even when they look numeric
# (mobiles, ID numbers, postcodes): leading zeros and '+86' must survive a CSV round trip.
DTYPES = {
    "string": "string",
    "int": "int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns]",
}


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    description: str
    nullable: bool = False
    pii: bool = False  # personal data: never leaves the raw/cleansing layers, never in MLflow
    allowed: tuple | None = None  # closed set of values, when the column is categorical
    min_value: float | None = None
    past: bool = False  # a moment that has happened: never after the data's as-of day


@dataclass(frozen=True)
class TableContract:
    name: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    truth: bool = False  # hidden ground truth: only evaluation may read it
    notes: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CHANNELS = ("pos", "tmall", "wechat", "web")
ONLINE_CHANNELS = ("tmall", "wechat", "web")
EVENT_TYPES = ("view", "collect", "cart", "purchase")
GENDERS = ("M", "F")

_REGISTERED = Column("registered_at", "timestamp", "When the member registered in this channel.",
                     past=True)

RAW_CONTRACTS: dict[str, TableContract] = {
    t.name: t
    for t in (
        TableContract(
            "pos_members",
            "Store (POS) member cards, typed in by clerks: Chinese names, mobiles in many "
            "written forms, sometimes a resident ID number, free-text addresses.",
            ("record_id",),
            (
                Column("record_id", "string", "Member record id, unique in this table."),
                Column("member_card_no", "string", "Printed member card number."),
                Column("name", "string", "Name as typed by the clerk (hanzi).", True, True),
                Column("mobile", "string", "Mobile as typed: '+86 138-0013-8000', "
                       "'86-13800138000', full-width digits, ...", True, True),
                Column("id_number", "string", "18-digit resident ID as typed (may be "
                       "mistyped).", True, True),
                Column("gender", "string", "Gender ticked on the form.", True, allowed=GENDERS),
                Column("birthday", "date", "Birthday given at registration.", True, True),
                Column("address", "string", "Home address as one free-text string.", True, True),
                Column("store_id", "string", "Store where the card was issued."),
                _REGISTERED,
            ),
        ),
        TableContract(
            "tmall_members",
            "Tmall flagship-store members: buyer nick, receiver name and address of their "
            "orders; the receiver mobile is usually masked like '138****5678'.",
            ("record_id",),
            (
                Column("record_id", "string", "Member record id, unique in this table."),
                Column("buyer_nick", "string", "Tmall buyer nickname.", True, True),
                Column("receiver_name", "string", "Receiver name on the last order.", True, True),
                Column("receiver_mobile", "string", "Receiver mobile, masked or full.", True,
                       True),
                Column("receiver_province", "string", "Receiver province.", True),
                Column("receiver_city", "string", "Receiver city.", True),
                Column("receiver_district", "string", "Receiver district.", True),
                Column("receiver_address", "string", "Street-level receiver address.", True,
                       True),
                _REGISTERED,
            ),
        ),
        TableContract(
            "wechat_members",
            "WeChat official-account / mini-program followers: openid per app, unionid across "
            "the brand's apps, nickname, profile region; mobile only when authorised.",
            ("record_id",),
            (
                Column("record_id", "string", "Member record id, unique in this table."),
                Column("openid", "string", "App-specific openid."),
                Column("unionid", "string", "Brand-wide unionid (same person, two apps).", True),
                Column("nickname", "string", "WeChat nickname (often not a real name).", True,
                       True),
                Column("gender", "string", "Gender from the WeChat profile.", True,
                       allowed=GENDERS),
                Column("province", "string", "Province from the WeChat profile.", True),
                Column("city", "string", "City from the WeChat profile.", True),
                Column("mobile", "string", "Authorised mobile.", True, True),
                _REGISTERED,
            ),
        ),
        TableContract(
            "web_members",
            "Website / app accounts: email, name (hanzi or pinyin in any order), mobile.",
            ("record_id",),
            (
                Column("record_id", "string", "Member record id, unique in this table."),
                Column("account_id", "string", "Login account id."),
                Column("name", "string", "Name: hanzi, or pinyin like 'Zhang Wei' / "
                       "'WEI ZHANG'.", True, True),
                Column("email", "string", "Email as entered.", True, True),
                Column("mobile", "string", "Mobile as entered.", True, True),
                Column("birthday", "date", "Birthday.", True, True),
                _REGISTERED,
            ),
        ),
        TableContract(
            "stores",
            "Physical stores.",
            ("store_id",),
            (
                Column("store_id", "string", "Store id."),
                Column("store_name", "string", "Store name."),
                Column("province", "string", "Province."),
                Column("city", "string", "City."),
                Column("district", "string", "District."),
                Column("city_tier", "int", "City tier (1 = Beijing/Shanghai/...; 5 = small)."),
                Column("opened_on", "date", "Opening date."),
            ),
        ),
        TableContract(
            "products",
            "SKU catalogue.",
            ("sku",),
            (
                Column("sku", "string", "Stock-keeping unit."),
                Column("category", "string", "Product category."),
                Column("brand", "string", "Brand."),
                Column("imported", "bool", "Imported brand."),
                Column("colour", "string", "Main colour."),
                Column("style", "string", "Style family."),
                Column("list_price", "float", "Catalogue list price (CNY).", min_value=0.01),
                Column("launched_on", "date", "Launch date (new arrivals are recent)."),
            ),
        ),
        TableContract(
            "orders",
            "Orders in every channel. An order belongs to one channel member record.",
            ("order_id",),
            (
                Column("order_id", "string", "Order id."),
                Column("channel", "string", "Sales channel.", allowed=CHANNELS),
                Column("record_id", "string", "Member record that placed the order."),
                Column("store_id", "string", "Store (POS orders only).", True),
                Column("ordered_at", "timestamp", "Order time.", past=True),
                Column("item_count", "int", "Number of items.", min_value=1),
                Column("list_amount", "float", "Sum of list prices.", min_value=0),
                Column("paid_amount", "float", "Amount paid after all discounts.", min_value=0),
                Column("discount_amount", "float", "Promotion discount (not coupons).",
                       min_value=0),
                Column("coupon_discount", "float", "Coupon discount redeemed on the order.",
                       min_value=0),
                Column("campaign_id", "string", "Campaign whose coupon was redeemed.", True),
            ),
        ),
        TableContract(
            "order_items",
            "Order lines.",
            ("order_id", "line_no"),
            (
                Column("order_id", "string", "Order id."),
                Column("line_no", "int", "Line number within the order.", min_value=1),
                Column("sku", "string", "SKU."),
                Column("quantity", "int", "Quantity.", min_value=1),
                Column("list_price", "float", "Unit list price at the time.", min_value=0),
                Column("paid_price", "float", "Unit price paid.", min_value=0),
            ),
        ),
        TableContract(
            "events",
            "Online behaviour: views, collects (favourites), add-to-cart and purchases.",
            ("event_id",),
            (
                Column("event_id", "string", "Event id."),
                Column("channel", "string", "Online channel.", allowed=ONLINE_CHANNELS),
                Column("record_id", "string", "Member record."),
                Column("sku", "string", "SKU involved."),
                Column("event_type", "string", "Kind of event.", allowed=EVENT_TYPES),
                Column("event_at", "timestamp", "Event time.", past=True),
            ),
        ),
        TableContract(
            "campaigns",
            "Coupon campaigns ('spend X get Y off'), each a randomised experiment.",
            ("campaign_id",),
            (
                Column("campaign_id", "string", "Campaign id."),
                Column("campaign_name", "string", "Name."),
                Column("start_date", "date", "First day of the campaign."),
                Column("end_date", "date", "Last day coupons can be redeemed."),
                Column("control_share", "float", "Share of the audience held out as control.",
                       min_value=0),
                Column("audience_rule", "string", "How the audience was chosen."),
            ),
        ),
        TableContract(
            "campaign_offers",
            "The offers (arms) of each campaign; treated members are randomised across arms.",
            ("campaign_id", "arm"),
            (
                Column("campaign_id", "string", "Campaign id."),
                Column("arm", "string", "Arm name."),
                Column("coupon_threshold", "float", "Spend threshold X (CNY).", min_value=0),
                Column("discount", "float", "Discount Y (CNY).", min_value=0),
            ),
        ),
        TableContract(
            "campaign_members",
            "Randomised assignment: every audience member, treatment (with arm) or control.",
            ("campaign_id", "record_id"),
            (
                Column("campaign_id", "string", "Campaign id."),
                Column("record_id", "string", "Member record the campaign addressed."),
                Column("group", "string", "Experiment group.", allowed=("treatment", "control")),
                Column("arm", "string", "Offer arm (treatment only).", True),
                Column("assigned_at", "timestamp", "When the assignment was drawn.", past=True),
            ),
        ),
        TableContract(
            "campaign_sends",
            "Messages sent per wave, with opens and clicks.",
            ("campaign_id", "record_id", "wave"),
            (
                Column("campaign_id", "string", "Campaign id."),
                Column("record_id", "string", "Member record."),
                Column("wave", "int", "Wave number (1 = first touch).", min_value=1),
                Column("send_channel", "string", "Message channel.",
                       allowed=("wechat", "sms", "email", "app")),
                Column("sent_at", "timestamp", "Send time.", past=True),
                Column("opened_at", "timestamp", "Open time, if opened.", True, past=True),
                Column("clicked_at", "timestamp", "Click time, if clicked.", True, past=True),
            ),
        ),
        TableContract(
            "coupon_redemptions",
            "Coupons redeemed on orders.",
            ("coupon_id",),
            (
                Column("coupon_id", "string", "Coupon id."),
                Column("campaign_id", "string", "Campaign id."),
                Column("record_id", "string", "Member record."),
                Column("order_id", "string", "Order it was redeemed on."),
                Column("coupon_threshold", "float", "Threshold X.", min_value=0),
                Column("discount", "float", "Discount Y.", min_value=0),
                Column("redeemed_at", "timestamp", "Redemption time.", past=True),
            ),
        ),
    )
}


TRUTH_CONTRACTS: dict[str, TableContract] = {
    t.name: t
    for t in (
        TableContract(
            "truth_persons",
            "The hidden persons behind the records, with their latent traits.",
            ("person_id",),
            (
                Column("person_id", "string", "True person id."),
                Column("household_id", "string", "Household (families share address/mobile)."),
                Column("name", "string", "True name.", pii=True),
                Column("gender", "string", "Gender.", allowed=GENDERS),
                Column("birth_date", "date", "Birth date.", pii=True),
                Column("province", "string", "Home province."),
                Column("city", "string", "Home city."),
                Column("district", "string", "Home district."),
                Column("division_code", "string", "6-digit administrative-division code."),
                Column("city_tier", "int", "City tier."),
                Column("street_address", "string", "Street address.", pii=True),
                Column("mobile", "string", "Own mobile (11 digits).", pii=True),
                Column("email", "string", "Email.", pii=True),
                Column("id_number", "string", "18-digit resident ID.", pii=True),
                Column("common_name", "bool", "Name is one of the very common full names."),
                Column("value_tier", "int", "Latent value tier 0 (low A) .. 5 (very high)."),
                Column("price_sensitivity", "float", "0..1, how much discounts move them."),
                Column("purchase_rate", "float", "Purchases per year while active."),
                Column("dropout_prob", "float", "Chance of becoming inactive after a purchase."),
                Column("basket_mu", "float", "Log-mean of their basket value."),
                Column("basket_sigma", "float", "Log-sd of their basket value."),
                Column("topup_range", "float", "How far below X a basket still tops up to X."),
                Column("open_prob", "float", "Chance to open a campaign message (per wave)."),
                Column("favourite_category", "string", "Category with the highest preference."),
                Column("favourite_colour", "string", "Colour they pick when they can."),
                Column("trend_chaser", "bool", "Prefers new arrivals."),
                Column("household_rank", "int", "0 head, 1 spouse, 2+ child or parent."),
                Column("first_seen", "date", "When the person first met the brand."),
                Column("dropout_date", "date", "When they became inactive (null: active).", True),
            ),
            truth=True,
            notes=("Also one `pref_<category>` column per category: the person's category "
                   "preference weights (they sum to 1).",),
        ),
        TableContract(
            "truth_records",
            "Record -> person, with the noise applied to each record (the hard cases).",
            ("channel", "record_id"),
            (
                Column("channel", "string", "Channel.", allowed=CHANNELS),
                Column("record_id", "string", "Record id."),
                Column("person_id", "string", "True person id."),
                Column("duplicate_registration", "bool", "A second record in the same channel."),
                Column("name_noise", "string", "Noise applied to the name."),
                Column("mobile_noise", "string", "Noise applied to the mobile."),
                Column("id_noise", "string", "Noise applied to the ID number."),
                Column("address_noise", "string", "Noise applied to the address."),
            ),
            truth=True,
        ),
        TableContract(
            "truth_campaign_outcomes",
            "For every campaign member: both potential outcomes' expectations (no offer / the "
            "arm's offer) and what happened.",
            ("campaign_id", "person_id"),
            (
                Column("campaign_id", "string", "Campaign id."),
                Column("person_id", "string", "True person id."),
                Column("group", "string", "Experiment group."),
                Column("arm", "string", "Arm (treatment only).", True),
                Column("p_buy_control", "float", "P(buy in window) without an offer."),
                Column("p_buy_treated", "float", "P(buy in window) if sent the arm's offer."),
                Column("margin_control", "float", "E[margin] without an offer."),
                Column("margin_treated", "float", "E[margin] if sent the offer."),
                Column("bought", "bool", "Realised: bought in the window."),
            ),
            truth=True,
        ),
        TableContract(
            "truth_offer_outcomes",
            "Every person x every menu offer (and 'none'), for the next campaign window after "
            "the data ends: the expectations any targeting policy's true profit is computed from.",
            ("person_id", "coupon_threshold", "discount"),
            (
                Column("person_id", "string", "True person id."),
                Column("coupon_threshold", "float", "Threshold X (0 = no offer)."),
                Column("discount", "float", "Discount Y (0 = no offer)."),
                Column("p_buy", "float", "P(buy in window)."),
                Column("expected_revenue", "float", "E[paid amount]."),
                Column("expected_margin", "float", "E[gross margin after the coupon]."),
                Column("expected_cost", "float", "E[discount paid out]."),
                Column("incremental_margin", "float", "E[margin] minus E[margin | no offer]."),
            ),
            truth=True,
        ),
    )
}

ALL_CONTRACTS = {**RAW_CONTRACTS, **TRUTH_CONTRACTS}

# Per-person tables the pipelines write for people to read (profiles, the customer 360): not
# validated on load like the raw tables, documented here so the data dictionary lists them;
# their pipelines' tests check the written columns against these.
_PERSON = Column("person_id", "string", "OneID person id.")
_CUTOFF = Column("cutoff_date", "date", "The features' cut-off: the table describes the "
                 "person as of the day before.")
_RFM_CELLS = ("champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
              "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost", "no_purchase")
_TYPOLOGY = ("browses_and_buys", "browses_without_buying", "buys_without_browsing", "neither")

DERIVED_CONTRACTS: dict[str, TableContract] = {
    t.name: t
    for t in (
        TableContract(
            "person_demographics",
            "Demographic potential variables per person of person_features (pipeline "
            "features), derived from the golden record and the store table.",
            ("person_id",),
            (
                _PERSON, _CUTOFF,
                Column("gender", "string", "Gender from the golden record, or unknown.",
                       allowed=("M", "F", "unknown")),
                Column("age_band", "string", "Band of the age in completed years at the cut-off "
                       "(edges in demographics.age_band_edges: <18, 18-24, ..., 65+), or "
                       "unknown (no birth date, or an implausible one)."),
                Column("province", "string", "Home province (golden record), or unknown."),
                Column("city_tier", "int", "Tier of the home city in the store table "
                       "(1 = largest); null when the city is unknown or has no store.", True),
            ),
        ),
        TableContract(
            "customer_rfm",
            "The RFM grid per person of person_features (pipeline segments): scores 1..5 "
            "(buyers' quintiles or edges in segments.rfm_grid.edges) and the named cell of the "
            "R x FM map (segments.rfm_grid.cells).",
            ("person_id",),
            (
                _PERSON, _CUTOFF,
                Column("recency_days", "float", "Days since the last purchase (null: never "
                       "bought).", True),
                Column("frequency", "float", "Orders before the cut-off."),
                Column("monetary", "float", "Total paid (CNY)."),
                Column("r_score", "int", "Recency score, 5 = most recent fifth of buyers.", True),
                Column("f_score", "int", "Frequency score, 5 = most orders.", True),
                Column("m_score", "int", "Monetary score, 5 = largest total spend.", True),
                Column("fm_score", "int", "Mean of F and M, halves rounded up.", True),
                Column("rfm_code", "string", "R, F and M scores as one code, e.g. '545'.", True),
                Column("rfm_cell", "string", "Named cell of the RFM map.", allowed=_RFM_CELLS),
                Column("lifecycle_stage", "string", "The lifecycle stage (customer_segments)."),
            ),
        ),
        TableContract(
            "browse_interests",
            "Browse interest per person x category (pipeline profiles): views, collects and "
            "carts of the category's SKUs in the lookback, weighted by kind and decayed by age "
            "(profiles.browse).",
            ("person_id", "category"),
            (
                _PERSON, _CUTOFF,
                Column("category", "string", "Product category (slugged)."),
                Column("views", "int", "Views in the lookback."),
                Column("collects", "int", "Collects (favourites) in the lookback."),
                Column("carts", "int", "Add-to-carts in the lookback."),
                Column("interest_score", "float", "Sum over the events of weight[kind] x "
                       "0.5 ^ (age in days / half-life)."),
                Column("interest_rank", "int", "Rank of the category within the person "
                       "(1 = strongest).", min_value=1),
                Column("interested", "bool", "Score at or above profiles.browse.threshold."),
            ),
        ),
        TableContract(
            "browse_profile",
            "Browse typology and top interests per person of person_features (pipeline "
            "profiles).",
            ("person_id",),
            (
                _PERSON, _CUTOFF,
                Column("browse_typology", "string", "Browsed (any scored event) and bought "
                       "(an order) in the lookback, or not.", allowed=_TYPOLOGY),
                Column("browse_score", "float", "Sum of the person's interest scores."),
                Column("interested_categories", "int", "Categories at or above the threshold."),
                Column("top_interest_category", "string", "Category of rank 1.", True),
                Column("top3_interest_categories", "string", "Categories of rank 1-3, "
                       "comma-separated.", True),
            ),
        ),
        TableContract(
            "customer_360",
            "One row per person of person_features joining every capability's per-person "
            "outputs (pipeline profiles); person ids and derived values only.",
            ("person_id",),
            (
                _PERSON, _CUTOFF,
                Column("channels", "string", "Channels with a member record registered before "
                       "the cut-off, comma-separated (pos, tmall, wechat, web)."),
                Column("n_channels", "int", "Number of those channels."),
                Column("recency_days", "float", "Days since the last purchase.", True),
                Column("frequency", "float", "Orders."),
                Column("monetary", "float", "Total paid (CNY)."),
                Column("spend_year", "float", "Paid in the last year (CNY)."),
                Column("value_tier", "int", "Value tier 0 (low A) .. 5 (very high)."),
                Column("value_tier_name", "string", "Name of the value tier."),
                Column("lifecycle_stage", "string", "Lifecycle stage (aware ... lost)."),
                Column("rfm_state", "string", "RFM state (new, active, at_risk, lapsed, "
                       "no_purchase)."),
                Column("preferred_category", "string", "Category with the largest share of "
                       "items bought.", True),
                Column("preferred_channel", "string", "Channel with the most orders.", True),
                Column("price_sensitive_score", "float", "0..1: promotion share and discount "
                       "depth."),
                Column("tags", "string", "Behavioural tags that apply, comma-separated "
                       "(price_sensitive, trend_chaser, new_visitor, loyal_member); null: "
                       "none.", True),
                Column("rfm_cell", "string", "Named RFM cell (customer_rfm).",
                       allowed=_RFM_CELLS),
                Column("rfm_code", "string", "R, F, M scores, e.g. '545'.", True),
                Column("r_score", "int", "Recency score 1..5.", True),
                Column("f_score", "int", "Frequency score 1..5.", True),
                Column("m_score", "int", "Monetary score 1..5.", True),
                Column("gender", "string", "Gender (person_demographics)."),
                Column("age_band", "string", "Age band (person_demographics)."),
                Column("province", "string", "Home province (person_demographics)."),
                Column("city_tier", "int", "Home-city tier (person_demographics).", True),
                Column("p_alive", "float", "P(still a customer) (customer_value).", True),
                Column("expected_purchases_90d", "float", "Expected purchases in 90 days "
                       "(customer_value).", True),
                Column("clv_12m", "float", "12-month customer lifetime value, CNY "
                       "(customer_value).", True),
                Column("churn_90d_probability", "float", "P(no purchase in the churn horizon, "
                       "retention.churn.horizon_days) for today's active buyers "
                       "(churn_scores); named after the horizon.", True),
                Column("churn_rank", "int", "Rank by churn probability (1 = most likely).", True),
                Column("winback", "bool", "In today's win-back audience."),
                Column("winback_rank", "int", "Rank in the win-back audience.", True),
                Column("browse_typology", "string", "Browse typology (browse_profile).",
                       allowed=_TYPOLOGY),
                Column("top_interest_category", "string", "Top browse interest.", True),
                Column("interested_categories", "int", "Categories above the browse "
                       "threshold."),
                Column("campaigns_addressed", "int", "Campaigns whose audience held the person "
                       "(treatment or control) before the cut-off."),
                Column("coupons_sent", "int", "Of those, campaigns that sent them the offer "
                       "(treatment)."),
                Column("coupons_redeemed", "int", "Coupons redeemed before the cut-off."),
                Column("coupon_value_redeemed", "float", "Their discounts (CNY)."),
                Column("last_campaign_id", "string", "The latest campaign that addressed "
                       "them.", True),
                Column("last_campaign_date", "date", "Its start date.", True),
                Column("last_campaign_group", "string", "Their group in it.", True,
                       allowed=("treatment", "control")),
                Column("last_redeemed_at", "timestamp", "Their last coupon redemption.", True),
            ),
        ),
    )
}

PII_COLUMNS = sorted({c for t in ALL_CONTRACTS.values() for c in t.pii_columns})


class ContractViolation(DatasetError):
    """A table broke its contract. The message names table, column and offending rows.

    A DatasetError, so Kedro reports it as it is instead of wrapping it."""


def _fmt_rows(df: pd.DataFrame, mask: pd.Series, column: str, n: int = 5) -> str:
    bad = df.loc[mask, column].head(n)
    shown = ", ".join(f"row {i}: {v!r}" for i, v in bad.items())
    more = int(mask.sum()) - len(bad)
    return shown + (f" (and {more} more)" if more > 0 else "")


CHINA_TZ = "Asia/Shanghai"  # every naive timestamp in the raw tables is China time
_UTC_OFFSET = r"(?:[+-]\d{2}:?\d{2}|Z)$"


def _to_china_time(series: pd.Series) -> pd.Series:
    """Naive timestamps in China time. Values that carry a UTC offset ('+08:00', 'Z') are
    converted to China time, so an export that mixes both forms loads as one clock."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(CHINA_TZ).dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("datetime64[ns]")
    text = series.astype("string").str.strip()
    with_offset = text.str.contains(_UTC_OFFSET, regex=True).fillna(False).astype(bool)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if (~with_offset).any():
        naive = pd.to_datetime(text[~with_offset], errors="coerce", format="mixed")
        out[~with_offset] = naive.astype("datetime64[ns]")
    if with_offset.any():
        aware = pd.to_datetime(text[with_offset], errors="coerce", format="mixed", utc=True)
        out[with_offset] = aware.dt.tz_convert(CHINA_TZ).dt.tz_localize(None) \
            .astype("datetime64[ns]")
    return out


def _coerce(series: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Return the series in the contract's dtype and a mask of values that could not be
    converted (present before, missing after)."""
    present = series.notna() & ~series.astype("string").str.strip().isin(["", "nan", "NaN"])
    if col.dtype in ("date", "timestamp"):
        out = _to_china_time(series)
    elif col.dtype == "int":
        num = pd.to_numeric(series, errors="coerce")
        # inf and numbers beyond int64 are not integers a table can hold
        whole = num.isna() | (np.isfinite(num) & (num.abs() < 2**63) & (num == num.round()))
        out = num.where(whole).astype("Int64")
        if not col.nullable and out.notna().all():
            out = out.astype("int64")
    elif col.dtype == "float":
        out = pd.to_numeric(series, errors="coerce").astype("float64")
    elif col.dtype == "bool":
        if pd.api.types.is_bool_dtype(series):
            out = series.astype("boolean")
        else:
            mapping = {"true": True, "false": False, "1": True, "0": False, "t": True,
                       "f": False, "yes": True, "no": False}
            out = series.astype("string").str.strip().str.lower().map(mapping).astype("boolean")
    else:
        out, lost = _as_text(series)
        out = out.mask(out.str.strip() == "")
        return out, (present & out.isna()) | lost
    bad = present & out.isna()
    return out, bad


_WHOLE_NUMBER_TEXT = r"^\s*\d+\.0+\s*$"   # '13800138000.0': Excel's way of writing a number
_EXACT_FLOAT = 2**53                       # float64 holds every integer up to here, no further


def _as_text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A text column as text, numbers included: a mobile or ID stored as a number (a Parquet
    float column, Excel's ``13800138000.0``) becomes its digits instead of a string no
    cleansing rule accepts. Returns the text and a mask of numbers too long to have kept
    their digits (an 18-digit ID as a float, ``1.38E+10``): those are reported, not guessed."""
    lost = pd.Series(False, index=series.index)
    if pd.api.types.is_bool_dtype(series):
        return series.astype("string"), lost
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64").astype("string"), lost
    if pd.api.types.is_float_dtype(series):
        num = series.astype("float64")
        whole = np.isfinite(num) & (num == np.round(num))
        lost = whole & (num.abs() >= _EXACT_FLOAT)
        text = series.astype("string")
        exact = whole & ~lost
        text[exact] = num[exact].astype("int64").astype("string")
        return text.mask(lost), lost
    text = series.astype("string")
    numeric = text.str.fullmatch(_WHOLE_NUMBER_TEXT, na=False)
    if numeric.any():
        text[numeric] = text[numeric].str.strip().str.replace(r"\.0+$", "", regex=True)
    sci = text.str.fullmatch(r"\s*\d(\.\d+)?[eE]\+?\d+\s*", na=False)
    return text.mask(sci), sci


def as_of_today() -> pd.Timestamp:
    """Today in China (the raw tables' clock), midnight: the as-of day of data loaded now."""
    return pd.Timestamp.now(tz=CHINA_TZ).tz_localize(None).normalize()


def validate(df: pd.DataFrame, contract: TableContract, source: str = "",
             as_of: pd.Timestamp | None = None, max_future_days: float | None = 1.0
             ) -> pd.DataFrame:
    """Check ``df`` against ``contract`` and return it with the contract's dtypes and column
    order (extra columns are kept at the end). Raises ContractViolation listing every problem
    found, each with up to five offending rows.

    Columns marked ``past`` (order, event, send, redemption, registration times) may not lie
    after ``as_of`` (default: today) plus ``max_future_days`` (None: no check): one order
    dated 2099 would otherwise move the data's "today", and every recency and label with it."""
    where = f"table '{contract.name}'" + (f" ({source})" if source else "")
    problems: list[str] = []
    if len(df.columns) == 0 or len(df) == 0:
        raise ContractViolation(f"{where} is empty: expected rows with columns "
                                f"{contract.column_names}.")
    missing = [c for c in contract.column_names if c not in df.columns]
    if missing:
        raise ContractViolation(
            f"{where}: missing column(s) {missing}; found {list(df.columns)}. "
            f"Expected columns: {contract.column_names}."
        )
    out = df.copy()
    for col in contract.columns:
        converted, bad = _coerce(out[col.name], col)
        if bad.any():
            what = (f"are not a valid {col.dtype}" if col.dtype != "string" else
                    "are numbers that lost digits (a float column, scientific notation): "
                    "export the column as text")
            problems.append(
                f"column '{col.name}': {int(bad.sum())} value(s) {what}: "
                + _fmt_rows(out, bad, col.name)
            )
        out[col.name] = converted
        nulls = converted.isna() & ~bad
        if not col.nullable and nulls.any():
            problems.append(
                f"column '{col.name}': {int(nulls.sum())} missing value(s) where none are "
                f"allowed: " + _fmt_rows(out, nulls, col.name)
            )
        if col.allowed is not None:
            outside = converted.notna() & ~converted.isin(col.allowed)
            if outside.any():
                problems.append(
                    f"column '{col.name}': {int(outside.sum())} value(s) outside "
                    f"{list(col.allowed)}: " + _fmt_rows(out, outside, col.name)
                )
        if col.past and max_future_days is not None:
            limit = (as_of if as_of is not None else as_of_today()) \
                + pd.Timedelta(days=1 + max_future_days)
            future = converted.notna() & (converted >= limit)
            if future.any():
                problems.append(
                    f"column '{col.name}': {int(future.sum())} time(s) after the data's as-of "
                    f"day {(limit - pd.Timedelta(days=1 + max_future_days)).date()} (+ "
                    f"{max_future_days:g} day(s) allowed): " + _fmt_rows(out, future, col.name))
        if col.min_value is not None:
            below = converted.notna() & (converted < col.min_value)
            if below.any():
                problems.append(
                    f"column '{col.name}': {int(below.sum())} value(s) below {col.min_value}: "
                    + _fmt_rows(out, below, col.name)
                )
    key = list(contract.primary_key)
    dup = out.duplicated(key, keep=False) & out[key].notna().all(axis=1)
    if dup.any():
        rows = out.loc[dup, key].head(5)
        shown = ", ".join(f"row {i}: {tuple(r)}"
                          for i, r in zip(rows.index, rows.values, strict=True))
        problems.append(
            f"primary key {key}: {int(dup.sum())} rows share a key value: {shown}"
        )
    if problems:
        raise ContractViolation(f"{where} breaks its contract:\n  - " + "\n  - ".join(problems))
    ordered = contract.column_names + [c for c in out.columns if c not in contract.column_names]
    return out[ordered]


def data_dictionary_markdown() -> str:
    """The data dictionary (docs/data_dictionary.md) rendered from the contracts."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `src/omnicrm/contracts.py` by `omnicrm docs`; do not edit by hand.",
        "Types: string, int, float, bool, date (YYYY-MM-DD), timestamp (ISO 8601).",
        "PII marks personal data, which never leaves the raw and cleansing layers.",
        "",
        "## Raw tables (`data/01_raw/<table>.parquet` or `.csv`)",
        "",
    ]
    for section, contracts in (("raw", RAW_CONTRACTS), ("truth", TRUTH_CONTRACTS),
                               ("derived", DERIVED_CONTRACTS)):
        if section == "truth":
            lines += [
                "## Hidden ground truth (`data/00_truth/`)",
                "",
                "Written by the synthetic generator only; only evaluation nodes may read it.",
                "",
            ]
        if section == "derived":
            lines += [
                "## Per-person profile tables (pipeline outputs)",
                "",
                "Written by the features, segments and profiles pipelines "
                "(`data/04_feature`, `data/07_model_output`); no personal data.",
                "",
            ]
        for t in contracts.values():
            lines += [f"### `{t.name}`", "", t.description, "", *[f"{n}\n" for n in t.notes],
                      f"Primary key: `{', '.join(t.primary_key)}`", "",
                      "| column | type | nullable | PII | description |",
                      "|---|---|---|---|---|"]
            for c in t.columns:
                desc = c.description + (f" One of {', '.join(c.allowed)}." if c.allowed else "")
                lines.append(f"| `{c.name}` | {c.dtype} | {'yes' if c.nullable else 'no'} | "
                             f"{'PII' if c.pii else ''} | {desc} |")
            lines.append("")
    return "\n".join(lines)
