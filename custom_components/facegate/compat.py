"""What differs between the Home Assistant releases the integration supports (2025.4 on)."""

# Each release's type checker sees only one of the two imports: the other's ignore is unused
# there (hence `unused-ignore` in both), and mypy --strict passes on every supported release.
try:  # Home Assistant 2026 validates with probatio, voluptuous's successor
    import probatio as vol  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # earlier releases with voluptuous itself
    import voluptuous as vol  # type: ignore[no-redef, unused-ignore]

try:  # Home Assistant 2026 types a repair's flow results with its own class
    from homeassistant.components.repairs import (  # type: ignore[attr-defined, unused-ignore]
        RepairsFlowResult,
    )
except ImportError:  # earlier releases with the generic one
    from homeassistant.data_entry_flow import (  # type: ignore[assignment, unused-ignore]
        FlowResult as RepairsFlowResult,
    )

__all__ = ["RepairsFlowResult", "vol"]
