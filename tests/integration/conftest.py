"""Fixtures for the integration's tests, which run against real Home Assistant core."""

import importlib

import pytest

# The harness's `hass` fixture imports `custom_components` from its own testing config unless the
# name is taken already: bind it to this repository's folder first (pytest.ini puts it on the path).
importlib.import_module("custom_components")

# The real engine on loopback (fixture `engine`), started outside Home Assistant's environment.
pytest.register_assert_rewrite("engine_harness")
pytest_plugins = ["engine_harness"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components/ in every test."""
