"""Judging models against the synthetic world's hidden truth (record linkage first)."""

from .linkage import HARD_CASES, bcubed_scores, hard_case_masks, hard_case_scores, pairwise_scores

__all__ = ["HARD_CASES", "bcubed_scores", "hard_case_masks", "hard_case_scores",
           "pairwise_scores"]
