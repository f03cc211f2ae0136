"""The recap subscriptions' contract: subscribing, claims, releases, limits and restarts.

Written against the store's public methods alone; conftest.py runs it on every backend.
The schedule arithmetic (next_due, latest_due) stays in tests/storage/test_subscriptions.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.backends import Stores, open_stores
from storage.subscriptions import Schedule, SubscriptionStore

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
DEFAULT = Schedule(time(16, 15), NEW_YORK)


@pytest.fixture
def store(stores: Stores) -> SubscriptionStore:
    return stores.subscriptions


async def test_subscribing_again_changes_the_time_but_keeps_what_was_sent(
    store: SubscriptionStore,
) -> None:
    await store.subscribe("telegram", "-1", DEFAULT, "en", "42", NOW)
    assert await store.claim("telegram", "-1", date(2026, 11, 27))
    await store.confirm("telegram", "-1", date(2026, 11, 27), NOW)

    later = NOW + timedelta(hours=1)
    changed = await store.subscribe(
        "telegram", "-1", Schedule(time(9, 0), ZoneInfo("Asia/Shanghai")), "zh", "43", later
    )

    assert changed.schedule.at_text == "09:00" and changed.schedule.zone.key == "Asia/Shanghai"
    assert changed.lang == "zh" and changed.active_since == later
    assert changed.handled_session == date(2026, 11, 27)
    assert changed.last_sent_session == date(2026, 11, 27) and changed.last_sent_at == NOW


async def test_a_session_can_be_claimed_once_and_an_older_one_never(
    store: SubscriptionStore,
) -> None:
    await store.subscribe("discord", "7", DEFAULT, "en", None, NOW)

    assert await store.claim("discord", "7", date(2026, 11, 30))
    assert not await store.claim("discord", "7", date(2026, 11, 30))
    assert not await store.claim("discord", "7", date(2026, 11, 27))
    assert await store.claim("discord", "7", date(2026, 12, 1))


async def test_a_released_claim_goes_back_to_the_previous_session(store: SubscriptionStore) -> None:
    await store.subscribe("discord", "7", DEFAULT, "en", None, NOW)
    await store.claim("discord", "7", date(2026, 11, 27))
    await store.claim("discord", "7", date(2026, 11, 30))

    await store.release("discord", "7", date(2026, 11, 30), date(2026, 11, 27))

    subscription = await store.get("discord", "7")
    assert subscription is not None and subscription.handled_session == date(2026, 11, 27)
    assert await store.claim("discord", "7", date(2026, 11, 30))


async def test_the_record_survives_reopening_the_database(store_url: str) -> None:
    async with open_stores(store_url) as stores:
        store = stores.subscriptions
        await store.subscribe("telegram", "-5", DEFAULT, "en", "1", NOW)
        await store.claim("telegram", "-5", date(2026, 11, 30))

    async with open_stores(store_url) as stores:
        store = stores.subscriptions
        assert not await store.claim("telegram", "-5", date(2026, 11, 30))
        assert await store.schedules() == {("16:15", "America/New_York")}


async def test_unsubscribing_removes_only_that_chat(store: SubscriptionStore) -> None:
    await store.subscribe("telegram", "-1", DEFAULT, "en", None, NOW)
    await store.subscribe("discord", "-1", DEFAULT, "en", None, NOW)

    assert await store.unsubscribe("telegram", "-1")
    assert not await store.unsubscribe("telegram", "-1")
    assert [subscription.key for subscription in await store.all()] == [("discord", "-1")]


async def test_on_demand_recaps_are_limited_per_chat(store: SubscriptionStore) -> None:
    cooldown = timedelta(minutes=10)

    assert await store.admit_request("telegram", "-1", NOW, cooldown) is None
    assert await store.admit_request("telegram", "-1", NOW + timedelta(minutes=9), cooldown) == (
        NOW + cooldown
    )
    assert await store.admit_request("telegram", "-2", NOW, cooldown) is None
    assert await store.admit_request("telegram", "-1", NOW + cooldown, cooldown) is None


async def test_a_subscription_follows_the_chats_later_language_and_zone(stores: Stores) -> None:
    store = stores.subscriptions
    await store.subscribe("telegram", "-1", Schedule(time(16, 15), NEW_YORK), "en", "42", NOW)
    untouched = await store.get("telegram", "-1")
    assert untouched is not None
    assert (untouched.reply_lang, untouched.reply_zone) == ("en", NEW_YORK)

    await stores.chat_settings.set_lang("telegram", "-1", "zh")
    await stores.chat_settings.set_tz("telegram", "-1", "Asia/Shanghai")

    changed = await store.get("telegram", "-1")
    assert changed is not None
    assert (changed.reply_lang, changed.reply_zone) == ("zh", ZoneInfo("Asia/Shanghai"))
    assert [(s.reply_lang, s.reply_zone.key) for s in await store.all()] == [
        ("zh", "Asia/Shanghai")
    ]
    # The schedule itself stays as subscribed: only the wording follows the settings.
    assert (changed.lang, changed.schedule.zone) == ("en", NEW_YORK)
