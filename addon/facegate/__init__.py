"""facegate: consent-first face unlock for Home Assistant."""

__version__ = "0.2.0"
