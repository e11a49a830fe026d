"""The configuration schema: errors name the key, and a face-only door is refused (R4)."""

import pytest
import yaml
from facegate.config import DEFAULT_AGGREGATE, DEFAULT_EMBEDDER, load, parse
from facegate.errors import ConfigError


def _raw(**door):
    base = {
        "data_dir": "data",
        "mqtt": {"host": "127.0.0.1"},
        "cameras": {"front_cam": {"source": "rtsp://127.0.0.1:8554/door"}},
        "doors": {
            "front": {
                "camera": "front_cam",
                "methods": ["face", "pin"],
                "lock": {"command_topic": "lock/front/set"},
            }
        },
    }
    base["doors"]["front"].update(door)
    return base


def test_valid_config_gets_defaults(tmp_path):
    config = parse(_raw(), base=tmp_path)
    assert config.data_dir == (tmp_path / "data").resolve()
    assert config.embedder == DEFAULT_EMBEDDER
    # No threshold unless the administrator fixes one: the open-set policy sets it per door.
    assert config.decision.threshold is None
    assert config.decision.aggregate == DEFAULT_AGGREGATE
    door = config.doors["front"]
    assert door.strictness == "strict"
    assert door.name == "Front"
    assert door.methods == {"face", "pin"}
    assert door.lock.payload_unlock == "UNLOCK"


def test_r4_face_only_door_is_rejected():
    with pytest.raises(ConfigError) as error:
        parse(_raw(methods=["face"]))
    assert "doors.front.methods" in str(error.value)
    assert "R4" in str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"methods": ["face", "retina"]}, "doors.front.methods.1: is 'retina': must be one of"),
        ({"lock": {}}, "doors.front.lock: needs command_topic"),
        ({"camera": "back_cam"}, "doors.front.camera: no camera named 'back_cam'"),
        ({"color": "red"}, "doors.front.color: is not a known setting"),
    ],
)
def test_bad_door_settings_name_the_key(change, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("'", "'")):
        parse(_raw(**change))


def test_missing_and_out_of_range_values_name_the_key():
    raw = _raw()
    del raw["mqtt"]
    raw["decision"] = {"threshold": 0.1, "votes_required": 0}
    with pytest.raises(ConfigError) as error:
        parse(raw)
    text = str(error.value)
    assert "mqtt: is required" in text
    assert "decision.threshold" in text
    assert "decision.votes_required" in text


def test_threshold_and_strictness_can_be_set():
    raw = _raw(strictness="balanced")
    raw["decision"] = {"threshold": 0.7, "aggregate": "vote"}
    config = parse(raw)
    assert config.decision.threshold == 0.7
    assert config.decision.aggregate == "vote"
    assert config.doors["front"].strictness == "balanced"
    with pytest.raises(
        ConfigError, match=r"doors\.front\.strictness: is 'lenient': must be one of strict"
    ):
        parse(_raw(strictness="lenient"))


def test_votes_required_cannot_exceed_the_window():
    raw = _raw()
    raw["decision"] = {"votes_required": 6, "votes_window": 5}
    with pytest.raises(ConfigError, match=r"decision\.votes_required"):
        parse(raw)


def test_r12_liveness_needs_two_frames_per_decision():
    """One frame cannot show whether a face moves like a face or like a photo."""
    raw = _raw()
    raw["decision"] = {"votes_required": 1, "votes_window": 5}
    with pytest.raises(ConfigError, match=r"liveness needs at least 2 frames"):
        parse(raw)
    off = _raw(liveness="off")
    off["decision"] = {"votes_required": 1, "votes_window": 5}
    assert parse(off).decision.votes_required == 1


def test_r12_a_config_holding_the_mqtt_password_must_be_private(tmp_path):
    raw = _raw()
    raw["mqtt"] = {"host": "127.0.0.1", "username": "facegate", "password": "s3cret-broker"}
    path = tmp_path / "facegate.yaml"
    path.write_text(yaml.safe_dump(raw))
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"others can read it: run `chmod 600"):
        load(path)
    path.chmod(0o600)
    assert load(path).mqtt.password == "s3cret-broker"
    without = tmp_path / "open.yaml"  # no password: nothing to protect
    without.write_text(yaml.safe_dump(_raw()))
    without.chmod(0o644)
    assert load(without).mqtt.password is None


def test_load_reports_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("doors: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(ConfigError, match="mapping"):
        load(scalar)
