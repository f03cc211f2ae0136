"""Every command answers every hostile input with a catalogued reply, never a crash."""

from __future__ import annotations

import logging

import pytest

from bot.dispatch import dispatch
from handlers.i18n import text
from handlers.model import Services
from handlers.registry import REGISTRY
from tests.conftest import make_request
from tests.hostile_inputs import HOSTILE_ACTIONS, HOSTILE_INPUTS


def test_the_corpus_is_large_enough() -> None:
    assert len(set(HOSTILE_INPUTS)) + len(set(HOSTILE_ACTIONS)) >= 300


@pytest.mark.parametrize("command", [command.name for command in REGISTRY.commands])
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_no_hostile_input_makes_a_command_fail(
    command: str, lang: str, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    sorry = text("zh" if lang == "zh" else "en", "core.sorry")
    failures: list[str] = []
    with caplog.at_level(logging.ERROR):
        for hostile in HOSTILE_INPUTS:
            variants = ((f"/{command} {hostile}", False), (f"/{command}@dsbot {hostile}", True))
            for line, is_admin in variants:
                request = make_request(line, locale=lang, chat_kind="group", is_admin=is_admin)
                reply = await dispatch(request, services)
                if sorry in reply.plain_text():
                    failures.append(repr(line[:80]))
                assert reply.title or reply.parts, line[:80]
    assert failures == []
    assert [
        record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR
    ] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_forged_button_data_gets_a_catalogued_error(
    lang: str, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    sorry = text("zh" if lang == "zh" else "en", "core.sorry")
    with caplog.at_level(logging.ERROR):
        for action in HOSTILE_ACTIONS:
            reply = await dispatch(make_request(action=action, locale=lang), services)
            assert sorry not in reply.plain_text(), action
            assert reply.plain_text(), action
    assert [
        record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR
    ] == []
