"""facegate: consent-first face unlock for Home Assistant."""

__version__ = "0.1.0"
