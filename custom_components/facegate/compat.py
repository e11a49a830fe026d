"""What differs between the Home Assistant releases the integration supports (2025.4 on)."""

try:  # Home Assistant 2026 validates with probatio, voluptuous's successor
    import probatio as vol
except ImportError:  # earlier releases with voluptuous itself
    import voluptuous as vol  # type: ignore[no-redef]

__all__ = ["vol"]
