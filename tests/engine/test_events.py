"""Access events: the shape docs/design.md gives, no image or embedding, and a signature that
binds them."""

from facegate.events import AccessEvent, sign, verify

KEY = b"k" * 32


def _event() -> dict[str, object]:
    return AccessEvent(
        door="front",
        method="face",
        result="granted",
        reason="match",
        person_id="p1",
        person_name="Ann",
        score=0.71234,
        liveness=None,
        latency_ms=123.45,
    ).payload()


def test_event_has_exactly_the_contract_fields():
    assert set(_event()) == {
        "id",
        "ts",
        "door",
        "method",
        "result",
        "reason",
        "person",
        "score",
        "liveness",
        "latency_ms",
    }
    assert _event()["person"] == {"id": "p1", "name": "Ann"}


def test_r12_signature_detects_any_changed_field():
    signed = sign(_event(), KEY)
    assert verify(signed, KEY)
    for field, value in [("result", "denied"), ("door", "back"), ("ts", 0), ("person", None)]:
        forged = dict(signed, **{field: value})
        assert not verify(forged, KEY), field
    assert not verify(signed, b"x" * 32)
    assert not verify({k: v for k, v in signed.items() if k != "sig"}, KEY)
