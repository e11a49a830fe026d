"""The engine harness gives every Home Assistant test environment the real engine."""

import hmac
import json
import os
from hashlib import sha256

import pytest
from engine_client import DOORS, EngineApiError, EngineUnderTest
from homeassistant.core import HomeAssistant

PIN = "730461"


def _signature(event: dict[str, object], key: str) -> str:
    canonical = {k: v for k, v in event.items() if k != "sig"}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(bytes.fromhex(key), text.encode(), sha256).hexdigest()


def test_the_engine_answers_with_its_installation(engine: EngineUnderTest) -> None:
    info = engine.api("GET", "/api/installation")
    assert info["installation_id"] == engine.installation_id
    assert len(engine.installation_id) == 32
    assert info["event_key"] == engine.event_key
    assert info["doors"] == list(DOORS)
    # The data directory is readable here too, also when the engine runs outside a chroot.
    assert (engine.data_dir / "installation.id").read_text().strip() == engine.installation_id
    if os.environ.get("FACEGATE_TEST_URL"):  # handed in by scripts/ha_test.sh
        assert engine.url == os.environ["FACEGATE_TEST_URL"]
    with pytest.raises(EngineApiError) as refused:
        EngineUnderTest(**{**engine.__dict__, "token": "x" * 43}).api("GET", "/api/installation")
    assert refused.value.status == 401


def test_a_resident_with_a_pin_opens_the_home_assistant_door(engine: EngineUnderTest) -> None:
    person = engine.create_person("Li Wei", consent=True, pin=PIN)
    try:
        assert person["consent"]["status"] == "live"
        assert [c["kind"] for c in person["credentials"]] == ["pin"]
        event = engine.present("back_door", "pin", PIN)
        assert (event["result"], event["person"]["id"]) == ("granted", person["id"])
        assert event["sig"] == _signature(event, engine.event_key)
        doors = {d["id"]: d for d in engine.api("GET", "/api/doors")["doors"]}
        assert doors["back_door"]["lock"] == "home_assistant"
        assert doors["back_door"]["lock_entity"] == "lock.back_door"
        assert doors["front_door"]["lock"] == "mqtt"
        assert doors["front_door"]["lock_entity"] is None
    finally:
        engine.reset()
    assert engine.api("GET", "/api/people") == {"people": []}


async def test_the_engine_is_reachable_from_inside_home_assistant(
    hass: HomeAssistant, engine: EngineUnderTest
) -> None:
    """From the event loop the blocking client is off limits; async_api is not."""
    info = await engine.async_api("GET", "/api/installation")
    assert info["installation_id"] == engine.installation_id
