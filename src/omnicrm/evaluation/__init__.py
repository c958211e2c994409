"""What several capabilities share to judge models against the synthetic truth (OneID
persons mapped to true persons). Each capability's own judging is in ``<cap>/evaluation.py``."""
