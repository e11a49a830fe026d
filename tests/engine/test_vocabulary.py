"""The words are declared once: the engine's vocabulary.py. The Home Assistant integration
ships without the engine, so it carries a copy of the few it needs; this keeps the copy equal,
and keeps the rule keys it translates among those the engine sends."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import get_args

from facegate.rules import RULE_KEYS
from facegate.vision.quality import QualityReason
from facegate.vocabulary import CREDENTIAL_KINDS, METHODS, Result
from facegate.web.resident.words import REFUSALS

ROOT = Path(__file__).resolve().parents[2]


def _integration_constants() -> ModuleType:
    path = ROOT / "custom_components" / "facegate" / "const.py"
    spec = importlib.util.spec_from_file_location("facegate_integration_const", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # const.py imports nothing from Home Assistant
    return module


def test_the_integration_speaks_the_engines_vocabulary() -> None:
    const = _integration_constants()
    assert const.METHODS == METHODS
    assert const.CREDENTIAL_KINDS == CREDENTIAL_KINDS
    assert get_args(Result) == const.RESULTS


def test_every_rule_key_the_integration_translates_is_one_the_engine_sends() -> None:
    assert _integration_constants().ENGINE_RULE_KEYS <= RULE_KEYS


def test_every_refusal_the_integration_translates_is_one_the_engine_raises() -> None:
    """The engine names its finer refusals where it raises them (`key="..."`, the quality
    gate's as quality_<reason>); the resident pages say each in Chinese, and so does Home
    Assistant for those it translates."""
    source = "\n".join(p.read_text() for p in (ROOT / "addon" / "facegate").rglob("*.py"))
    raised = set(re.findall(r'key="([a-z_]+)"', source))
    raised |= {f"quality_{reason}" for reason in get_args(QualityReason)}
    translated = _integration_constants().ENGINE_REFUSALS
    assert translated <= raised
    assert translated <= set(REFUSALS)
