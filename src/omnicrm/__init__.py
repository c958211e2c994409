"""omnicrm: the CRM data-science workbench (OneID, segments, repurchase and coupon models,
campaign reports) as a Kedro project."""

__version__ = "0.1.0"
