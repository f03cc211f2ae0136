"""The console front end: the same dispatch as the chat platforms, in a terminal, no token."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TextIO

from bot.dispatch import dispatch, parse_command, resolve_context
from bot.render import format_table
from handlers.i18n import pick_lang, text
from handlers.model import Attachment, Image, Lang, Reply, Request, Services, Table

CONSOLE_CHAT = "console"
# The name the console answers to in /cmd@name, as a Telegram bot answers to its username.
CONSOLE_BOT = "dsbot"
EXPORT_FOLDER = "dsbot-exports"
_UNSAFE_NAME = re.compile(r"[^\w.-]")


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    user_id: str = "local"
    chat_id: str = CONSOLE_CHAT
    locale: str = ""
    is_admin: bool = False
    chat_kind: str = "private"


@cache
def image_dir() -> Path:
    """A folder of this process's own (mode 0700), so no one else can plant or read files."""
    return Path(tempfile.mkdtemp(prefix="dsbot-"))


def image_path(folder: Path, image: Image) -> Path:
    """Named after the image's own name and content, so two charts never overwrite each other."""
    name = Path(image.filename)
    digest = hashlib.sha256(image.png).hexdigest()[:10]
    return folder / f"{name.stem}-{digest}{name.suffix or '.png'}"


def export_dir() -> Path:
    """Where files the console is sent (CSV exports) are saved: a predictable folder of the
    working directory, kept after the process ends, unlike the charts' temporary one."""
    return Path.cwd() / EXPORT_FOLDER


def file_path(folder: Path, attachment: Attachment) -> Path:
    """The attachment's own name (its folders dropped), never overwriting an earlier file."""
    name = Path(_UNSAFE_NAME.sub("_", Path(attachment.filename).name) or "file")
    path = folder / name
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{name.stem}-{number}{name.suffix}"
    return path


def render_console(
    reply: Reply, lang: Lang, images: Path | None = None, exports: Path | None = None
) -> str:
    """The reply as terminal text; images and files are written to disk and their paths listed."""
    lines: list[str] = []
    if reply.title:
        lines += [reply.title, ""]
    for part in reply.parts:
        lines.append(format_table(part) if isinstance(part, Table) else part)
        lines.append("")
    for image in reply.images:
        path = image_path(images or image_dir(), image)
        path.write_bytes(image.png)
        lines.append(text(lang, "console.image_saved", path=str(path), alt=image.alt))
    for attachment in reply.files:
        folder = exports or export_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = file_path(folder, attachment)
        path.write_bytes(attachment.data)
        lines.append(text(lang, "console.file_saved", path=str(path), name=path.name))
    for number, button in enumerate(reply.buttons, start=1):
        lines.append(f"  [{number}] {button.label}")
    if reply.notice:
        lines.append(f"> {reply.notice}")
    return "\n".join(lines).rstrip() + "\n"


def build_request(line: str, user: ConsoleUser, action: str | None = None) -> Request:
    parsed = parse_command(line)
    return Request(
        platform="console",
        user_id=user.user_id,
        chat_id=user.chat_id,
        command=parsed.name if parsed else "",
        text=parsed.text if parsed else line.strip(),
        chat_kind="group" if user.chat_kind == "group" else "private",
        is_admin=user.is_admin,
        locale=user.locale,
        action=action,
        user_name=user.user_id,
    )


def heard(line: str, user: ConsoleUser, services: Services) -> bool:
    """Whether the bot answers `line` at all. In a group, as on Telegram, it keeps out of
    plain chatter, of /cmd@otherbot, and of bare commands it does not know (another bot's)."""
    if user.chat_kind != "group":
        return True
    parsed = parse_command(line)
    if parsed is None:
        return False
    if parsed.addressee:
        return parsed.addressee.casefold() == CONSOLE_BOT
    return parsed.name in services.registry.by_name


async def ask(line: str, user: ConsoleUser, services: Services) -> tuple[Reply, Request]:
    """One command through dispatch; a line that is not a command gets the help hint."""
    request = build_request(line if parse_command(line) else "/help", user)
    request = await resolve_context(request, services)
    return await dispatch(request, services), request


async def interactive(user: ConsoleUser, services: Services, stream: TextIO = sys.stdout) -> None:
    """A prompt loop: commands, or the number of a button of the last reply to press it."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history where the terminal has it)
    lang = pick_lang(user.locale, services.default_lang)
    stream.write(text(lang, "console.welcome") + "\n")
    last: Reply | None = None
    while True:
        try:
            line = await asyncio.to_thread(input, "dsbot> ")
        except (EOFError, KeyboardInterrupt):
            stream.write("\n")
            return
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit", "quit", "exit"):
            return
        pressing = line.isdigit() and last is not None and 1 <= int(line) <= len(last.buttons)
        if not pressing and not heard(line, user, services):
            continue
        if pressing and last is not None:
            pressed = build_request("", user, action=last.buttons[int(line) - 1].action)
            request = await resolve_context(pressed, services)
            reply = await dispatch(request, services)
        else:
            reply, request = await ask(line, user, services)
        stream.write(render_console(reply, request.lang))
        # A reply that edits the previous message keeps the old buttons when it has none.
        if reply.buttons or not reply.edit:
            last = reply
