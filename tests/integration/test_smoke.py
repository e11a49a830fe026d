"""Home Assistant core finds this repository's facegate integration and loads it."""

import sys
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

DOMAIN = "facegate"
INTEGRATION_DIR = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
VISION_MODULES = ("cv2", "numpy", "ai_edge_litert", "mediapipe", "dlib")


async def test_core_loads_the_integration(hass: HomeAssistant) -> None:
    """The manifest is read from custom_components/facegate; importing the package stays light."""
    integration = await async_get_integration(hass, DOMAIN)

    assert integration.domain == DOMAIN
    assert integration.iot_class == "local_push"
    assert not integration.is_built_in
    assert integration.file_path.resolve() == INTEGRATION_DIR

    imported_before = set(sys.modules)
    component = await integration.async_get_component()
    assert component.DOMAIN == DOMAIN
    imported_by_component = {name.partition(".")[0] for name in set(sys.modules) - imported_before}
    assert not imported_by_component.intersection(VISION_MODULES)
