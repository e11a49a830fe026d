"""Enrolment from several images: they must show one person. The spread check refuses a photo of
somebody else, naming it, and stores nothing; a later enrolment is checked against the earlier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest_door import NoLink
from facegate.config import parse
from facegate.engine import Engine
from facegate.enrol import (
    MAX_ENROLMENT_IMAGES,
    Enrolment,
    SpreadError,
    enrol_images,
    read_image,
)
from facegate.errors import EnrolmentError

TEST_LIMIT_S = 120


@pytest.fixture
def engine(tmp_path: Path, models_dir: Path) -> Iterator[Engine]:
    config = parse(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "mqtt": {"host": "127.0.0.1"},
            "doors": {"lobby": {"methods": ["pin"], "lock": {"command_topic": "lobby/set"}}},
        }
    )
    made = Engine(config, NoLink())
    yield made
    made.stop()


def _enrol(engine: Engine, person_id: str, photos: list[Path]) -> Enrolment:
    return enrol_images(
        engine.store,
        engine.analyzer("short"),
        person_id,
        [(photo.name, read_image(photo)) for photo in photos],
        max_spread=engine.max_spread,
    )


def _resident(engine: Engine, name: str) -> str:
    person = engine.store.add_person(name)
    engine.store.give_consent(
        person.id, notice_version=engine.notice.version, method="signed_name", signer=name
    )
    return person.id


def test_an_enrolment_with_somebody_elses_photo_is_refused_naming_it(
    engine: Engine, faces: Path
) -> None:
    obama = faces / "enroll" / "barack_obama"
    person_id = _resident(engine, "Barack Obama")
    with pytest.raises(SpreadError, match=r"^biden\.jpg: does not look like") as error:
        _enrol(engine, person_id, [obama / "obama.jpg", faces / "enroll/joe_biden/biden.jpg"])
    assert error.value.index == 1
    assert engine.store.template_count(person_id) == 0  # nothing half-stored

    enrolment = _enrol(engine, person_id, [obama / "obama.jpg", obama / "obama2.jpg"])
    assert len(enrolment.template_ids) == 2
    assert 0 < enrolment.spread <= engine.max_spread
    # A later photo is checked against the person's earlier ones.
    with pytest.raises(SpreadError, match=r"biden2\.jpg"):
        _enrol(engine, person_id, [faces / "enroll/joe_biden/biden2.jpg"])
    # obama1.jpg's largest "face" is a false detection on the White House seal behind him:
    # nothing like him, so it is refused too, where it would once have become a template.
    with pytest.raises(SpreadError, match=r"obama1\.jpg"):
        _enrol(engine, person_id, [obama / "obama1.jpg"])
    assert len(_enrol(engine, person_id, [obama / "obama3.jpg"]).template_ids) == 1
    assert engine.store.template_count(person_id) == 3


def test_an_enrolment_takes_at_most_five_images(engine: Engine, faces: Path) -> None:
    person_id = _resident(engine, "Barack Obama")
    photos = [faces / "enroll/barack_obama/obama.jpg"] * (MAX_ENROLMENT_IMAGES + 1)
    with pytest.raises(EnrolmentError, match=f"at most {MAX_ENROLMENT_IMAGES} images"):
        _enrol(engine, person_id, photos)
    assert engine.store.template_count(person_id) == 0
