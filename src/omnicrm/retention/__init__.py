"""Retention: who is about to stop buying (churn), what a customer is worth (CLV from the
BG/NBD or Pareto/NBD purchase model and the gamma-gamma spend model) and whom a win-back offer
would bring back (uplift learnt from past campaigns that addressed lapsed members)."""
