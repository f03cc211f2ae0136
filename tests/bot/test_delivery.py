"""The one delivery policy: what a front end does with the reply to a command or a press."""

from __future__ import annotations

from bot.delivery import Delivery, LastShown, for_command, for_press
from handlers.model import Button, Reply

POLL = Reply(
    title="Poll #2",
    parts=("1. A",),
    buttons=(Button("1. A", "poll:2:0"),),
    edit=True,
    notice="Your vote: A",
    refresh_action="poll:2:r",
)
CLOSED = Reply(
    title="Poll #2",
    parts=("closed",),
    edit=True,
    notice="Poll #2 is closed.",
    is_error=True,
    refresh_action="poll:2:r",
)
SLOW_DOWN = Reply(parts=("Slow down",), ephemeral=True, is_error=True, droppable=True)


def test_a_vote_is_acknowledged_privately_and_its_message_refreshed_later() -> None:
    assert for_press(POLL) == Delivery(notice="Your vote: A", refresh="poll:2:r")


def test_a_press_on_a_closed_poll_is_refused_as_an_alert_and_still_redraws_the_poll() -> None:
    assert for_press(CLOSED) == Delivery(
        notice="Poll #2 is closed.", alert=True, refresh="poll:2:r"
    )


def test_an_edit_without_a_refresh_replaces_the_pressed_message_now() -> None:
    edit = Reply(parts=("new",), edit=True)
    assert for_press(edit) == Delivery(edit=edit)


def test_a_private_answer_to_a_press_is_only_the_notice() -> None:
    private = Reply(parts=("only for you",), ephemeral=True)
    assert for_press(private) == Delivery(notice="only for you")


def test_a_command_answer_is_posted_with_its_notice_for_the_member_alone() -> None:
    assert for_command(POLL, chat_kind="group", can_whisper=True) == Delivery(
        notice="Your vote: A", post=POLL
    )


def test_an_error_is_whispered_where_the_platform_can_and_posted_where_it_cannot() -> None:
    error = Reply(parts=("bad",), ephemeral=True, is_error=True)
    assert for_command(error, chat_kind="group", can_whisper=True) == Delivery(private=error)
    assert for_command(error, chat_kind="group", can_whisper=False) == Delivery(post=error)


def test_a_repeated_slow_down_is_dropped_only_where_it_could_only_be_public() -> None:
    assert for_command(SLOW_DOWN, chat_kind="group", can_whisper=False) == Delivery()
    private_chat = for_command(SLOW_DOWN, chat_kind="private", can_whisper=False)
    assert private_chat == Delivery(post=SLOW_DOWN)
    assert for_command(SLOW_DOWN, chat_kind="group", can_whisper=True) == Delivery(
        private=SLOW_DOWN
    )


def test_a_confidential_answer_is_never_posted_in_a_group_even_where_nobody_can_whisper() -> None:
    voters = Reply(title="Voters", parts=("Grace Hopper: 2",), ephemeral=True, confidential=True)

    whispered = for_command(voters, chat_kind="group", can_whisper=True)
    in_the_group = for_command(voters, chat_kind="group", can_whisper=False)
    in_a_private_chat = for_command(voters, chat_kind="private", can_whisper=False)

    assert whispered == Delivery(private=voters)
    assert in_the_group == Delivery(private=voters)  # the requester's private chat on Telegram
    assert in_a_private_chat == Delivery(post=voters)  # that chat is the requester's alone


def test_an_edit_that_shows_what_the_message_already_shows_is_not_sent() -> None:
    shown = LastShown(size=2)
    assert shown.changes("m1", "tally 1")
    assert not shown.changes("m1", "tally 1")
    assert shown.changes("m1", "tally 2")
    shown.forget("m1")
    assert shown.changes("m1", "tally 2")


def test_only_the_most_recent_messages_are_remembered() -> None:
    shown = LastShown(size=2)
    for message in ("m1", "m2", "m3"):
        shown.changes(message, "same")
    assert shown.changes("m1", "same")
    assert not shown.changes("m3", "same")
