"""Campaign design: the next campaign's randomised holdout (stratified, sized by a power
calculation), its checks before sending, its tables in the raw campaign schema and the
per-channel audience exports (docs/campaign.md)."""

from .design import (
    CampaignDesignError,
    assign_groups,
    control_share_for,
    design_campaign,
    in_global_holdout,
    later_wave_export,
    member_key_table,
)

__all__ = ["CampaignDesignError", "assign_groups", "control_share_for", "design_campaign",
           "in_global_holdout", "later_wave_export", "member_key_table"]
