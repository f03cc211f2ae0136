"""`/start`, `/help` and `/about`: what the bot is for, how to use it, and what happened."""

from __future__ import annotations

from handlers.commands import Command, Form
from handlers.dataset_replies import dataset_reply
from handlers.i18n import text
from handlers.model import Lang, Reply, Request, Services
from handlers.numbers import compact
from storage.facts import DatasetError, DayMove, Facts


async def start(request: Request, services: Services) -> Reply:
    """`/start`: a greeting and the list of commands."""
    reply = await show_help(request, services)
    return Reply(title=text(request.lang, "help.welcome"), parts=reply.parts)


async def show_help(request: Request, services: Services) -> Reply:
    """`/help`: every command, and an example of each of its forms."""
    lang = request.lang
    separator = text(lang, "help.form_separator")
    lines = [
        f"/{command.name} — {text(lang, command.summary)}\n    "
        + separator.join(text(lang, form.usage) for form in command.forms)
        for command in services.registry.commands
    ]
    cap_loss = compact(lang, services.facts.number("nvda_market_cap_loss_2025_01_27") * 1e9)
    return Reply(
        title=text(lang, "help.title"),
        parts=(
            text(lang, "help.intro", cap_loss=cap_loss),
            "\n".join(lines),
            text(lang, "help.footer"),
        ),
    )


def event_move(facts: Facts, ticker: str) -> DayMove:
    move = facts.day_move(ticker)
    if move is None:
        raise DatasetError(f"the dataset has no 24 and 27 January 2025 closes for {ticker}")
    return move


def story(lang: Lang, facts: Facts) -> tuple[str, ...]:
    """`/about`: the story of 27 January 2025 with its key numbers and sources."""
    nvda = event_move(facts, "NVDA")
    moves = {ticker: event_move(facts, ticker).pct for ticker in ("AVGO", "VST", "GEV", "^IXIC")}
    cap_loss = facts.fact("nvda_market_cap_loss_2025_01_27")
    return (
        text(lang, "about.what"),
        text(
            lang,
            "about.market",
            nvda_before=f"{nvda.before:.2f}",
            nvda_after=f"{nvda.after:.2f}",
            nvda_pct=f"{nvda.pct:+.2f}",
            cap_loss=compact(lang, facts.number(cap_loss.id) * 1e9),
            cap_loss_alt=compact(lang, facts.number("nvda_market_cap_loss_lseg") * 1e9),
            avgo=f"{moves['AVGO']:+.2f}",
            vst=f"{moves['VST']:+.2f}",
            gev=f"{moves['GEV']:+.2f}",
            nasdaq=f"{moves['^IXIC']:+.2f}",
        ),
        text(
            lang,
            "about.cost",
            v3_cost=compact(lang, facts.number("deepseek_v3_training_cost") * 1e6),
            r1_out=f"{facts.number('deepseek_reasoner_output'):.2f}",
            o1_out=f"{facts.number('openai_o1', 'output'):.2f}",
        ),
        text(lang, "about.outages"),
        text(lang, "about.sources"),
    )


about = dataset_reply("about", story)


START = Command("start", "help.summary_start", forms=(Form("show", start, "help.usage_start"),))
HELP = Command("help", "help.summary_help", forms=(Form("show", show_help, "help.usage_help"),))
ABOUT = Command("about", "help.summary_about", forms=(Form("show", about, "help.usage_about"),))
