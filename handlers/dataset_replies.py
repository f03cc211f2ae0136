"""Replies that depend only on the reply language and the dataset: worked out once, then kept."""

from __future__ import annotations

from collections.abc import Callable

from handlers.i18n import text
from handlers.model import Handler, Lang, Part, Reply, Request, Services
from storage.facts import Facts

Paragraphs = Callable[[Lang, Facts], tuple[Part, ...]]


def dataset_reply(topic: str, paragraphs: Paragraphs) -> Handler:
    """A handler answering `paragraphs` under the catalogue's `<topic>.title`.

    The dataset does not change while the bot runs and a Reply is a frozen value, so each
    language's reply is worked out on first use and kept for that dataset; /about and
    /factcheck are asked often and answer every member alike.
    """
    kept: dict[Lang, tuple[Facts, Reply]] = {}

    async def handler(request: Request, services: Services) -> Reply:
        lang, facts = request.lang, services.facts
        found = kept.get(lang)
        if found is not None and found[0] is facts:
            return found[1]
        reply = Reply(title=text(lang, f"{topic}.title"), parts=paragraphs(lang, facts))
        kept[lang] = (facts, reply)
        return reply

    return handler
