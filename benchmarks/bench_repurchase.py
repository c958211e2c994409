"""Repurchase benchmark (filled in below)."""


def run(opts):
    return []
