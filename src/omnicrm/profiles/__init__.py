"""Customer profiles that join every capability's per-person outputs: browse interests per
person x category and the browse typology (``browse``), and the customer 360, one row per
person with tier, stage, RFM cell, tags, demographics, value and churn scores, win-back,
channels and campaign/coupon history (``customer360``); browse interests are judged against
the synthetic world's category preferences (``evaluation``)."""
