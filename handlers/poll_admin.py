"""What moderators may ask of a poll: who voted for what (public polls), and a CSV export."""

from __future__ import annotations

from handlers.i18n import text, texts
from handlers.model import Reply, Request, Services, Table, UserError, require_moderator
from handlers.poll_export import results_csv, voters_csv
from handlers.poll_lookup import target_poll
from handlers.poll_view import MAX_SHOWN, labels_of, platform_name, privacy_line, question_of
from handlers.user_text import fit, one_line, shorten

# Monospace columns of a 36-column phone table: name, platform, choices.
NAME_COLUMNS = 16
CHOICE_COLUMNS = 8


async def list_voters(request: Request, services: Services) -> Reply:
    """`/poll voters [ID]`: a public poll's voters by display name; anonymous ones have none."""
    poll, _ = await target_poll(request, services)
    lang = request.lang
    # Anonymous is a promise to everyone, moderators included: said before anything else.
    if not poll.public:
        raise UserError("poll.voters_anonymous", id=poll.id)
    require_moderator(request)
    if not poll.results_shown(services.clock()):
        raise UserError("poll.voters_hidden", id=poll.id)
    voters = await services.polls.voters(poll.id)
    title = text(lang, "poll.voters_title", id=poll.id, question=question_of(poll, lang))
    if not voters:
        return Reply(title=title, parts=(text(lang, "poll.voters_none", id=poll.id),))
    separator = text(lang, "poll.voters_number_separator")
    table = Table(
        headers=texts(lang, "poll.col_voter", "poll.col_platform", "poll.col_choice"),
        rows=tuple(
            (
                fit(one_line(voter.name), NAME_COLUMNS),
                platform_name(lang, voter.platform),
                fit(
                    separator.join(str(index + 1) for index in sorted(voter.choices)),
                    CHOICE_COLUMNS,
                ),
            )
            for voter in voters
        ),
    )
    legend = text(lang, "poll.legend_separator").join(
        text(lang, "poll.voters_legend_entry", number=number, label=shorten(label, MAX_SHOWN))
        for number, label in enumerate(labels_of(poll, lang), start=1)
    )
    parts = (table, legend, privacy_line(lang, poll))
    return Reply(title=title, parts=parts, ephemeral=True, confidential=True)


async def export_poll(request: Request, services: Services) -> Reply:
    """`/poll export [ID]`: the results as CSV, and for a public poll its voters too."""
    require_moderator(request)
    poll, tally = await target_poll(request, services)
    lang, now = request.lang, services.clock()
    if not poll.results_shown(now):
        raise UserError("poll.export_hidden", id=poll.id)
    files = [results_csv(poll, tally, lang, now)]
    if poll.public:
        files.append(voters_csv(poll, await services.polls.voters(poll.id), lang, now))
    key = "poll.export_with_voters" if poll.public else "poll.export_results"
    return Reply(
        title=text(lang, "poll.export_title", id=poll.id, question=question_of(poll, lang)),
        parts=(text(lang, key, id=poll.id),),
        files=tuple(files),
        ephemeral=True,
        # The voters' file names them; the results alone are no secret, but one rule is simpler.
        confidential=True,
    )
