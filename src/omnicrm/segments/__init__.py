"""Customer segments from ``person_features``: value tiers (k-means on buying power,
``tiers``), lifecycle stage, RFM state and behavioural tags (``rules``), tier profiles and
plots (``profiles``), judged against the synthetic truth and its Bayes ceiling
(``evaluation``, ``oracle``). Shared by the segments pipeline and the production scoring
model."""
