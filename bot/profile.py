"""What belongs to one corpus and not to the engine: corpus/profile.yaml (what it covers, per language; example
questions; optional referral text). Optional: without it, the coverage line is made from the documents' titles."""

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.corpus import field_error
from bot.errors import CorpusError
from bot.records import Document


class Profile(BaseModel):
    """The validated shape of profile.yaml."""

    model_config = ConfigDict(extra="forbid")

    covers: dict[str, str] = {}
    examples: dict[str, list[str]] = {}
    referral: dict[str, str] = {}
    document_noun: dict[str, str] = {}

    def messages(self) -> dict[str, dict[str, str]]:
        """civicbot's own sentences that name what the corpus covers, per language."""
        out: dict[str, dict[str, str]] = {}
        for lang, covers in self.covers.items():
            covers = covers.strip().rstrip(".")
            if lang == "es":
                out[lang] = {"not_covered": f"Las fuentes que tengo no responden a eso. Tratan de: {covers}."}
            else:
                out[lang] = {"not_covered": f"The sources I have don't answer that. They cover: {covers}."}
        return out


def default_profile(documents: list[Document]) -> Profile:
    """A profile made from the documents' titles, for a corpus without profile.yaml."""
    titles = "; ".join(f"“{d.title}”" for d in documents[:5])
    return Profile(covers={"en": titles, "es": titles})


def load_profile(path: Path, documents: list[Document]) -> Profile:
    """Read and validate profile.yaml, or derive a default when there is none; errors name the file and field."""
    if not path.is_file():
        return default_profile(documents)
    try:
        profile = Profile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: profile is not valid YAML") from exc
    except ValidationError as exc:
        raise field_error(path, "profile", exc) from exc
    if not profile.covers:
        return profile.model_copy(update={"covers": default_profile(documents).covers})
    return profile
