"""Small readers for the deploy files, the README's configuration table and the docs' code."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
UNIT = ROOT / "deploy" / "systemd" / "dsbot.service"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "dsbot.env.example"
SELF_HOSTING = ROOT / "docs" / "self-hosting.md"
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))


@dataclass
class Instruction:
    name: str
    arguments: str


@dataclass
class Stage:
    image: str
    alias: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.name == name]

    def env(self) -> dict[str, str]:
        """ENV KEY=VALUE pairs (the form this Dockerfile uses), later ones winning."""
        found: dict[str, str] = {}
        for arguments in self.all("ENV"):
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                found[key] = value
        return found


def dockerfile_stages(text: str) -> list[Stage]:
    """Instructions per stage: comments dropped, backslash continuations joined."""
    stages: list[Stage] = []
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    for line in logical.splitlines():
        if not line.strip():
            continue
        name, _, arguments = line.strip().partition(" ")
        name, arguments = name.upper(), " ".join(arguments.split())
        if name == "FROM":
            words = arguments.split()
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=words[0], alias=alias))
        else:
            stages[-1].instructions.append(Instruction(name, arguments))
    return stages


def unit_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """[Section] -> [(key, value)] in order; keys may repeat (Environment=), as in systemd."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"a setting outside any section: {line!r}"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def configuration_table() -> set[str]:
    """Every variable named in the first column of the README's configuration table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def settings_variables() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def shell_blocks(path: Path) -> str:
    """The text of every ```sh code block of a Markdown page."""
    text = path.read_text(encoding="utf-8")
    return "\n".join(re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL))
