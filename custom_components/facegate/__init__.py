"""facegate for Home Assistant: doors, residents, consent and credentials as entities.

The integration is built in its own issue; until then this package only reserves the domain.
It must stay light: no vision libraries are ever imported here (they live in the engine).
"""

DOMAIN = "facegate"
