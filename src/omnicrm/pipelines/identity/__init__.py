"""OneID: link the standardised member records into persons with stable ids, golden records
and a customer-360 table; evaluation against the synthetic truth (tagged ``evaluation``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
