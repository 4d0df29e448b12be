"""The staff-editable referral text shown with abstentions and escalations (corpus/referrals.yaml)."""

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.corpus import field_error
from bot.errors import CorpusError


class Organization(BaseModel):
    """A place to turn, as staff confirmed it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str
    url: str | None = None
    phone: str | None = None


class ReferralFile(BaseModel):
    """The validated shape of referrals.yaml."""

    model_config = ConfigDict(extra="forbid")

    referral: dict[str, str]
    organizations: list[Organization] = []


@dataclass(frozen=True)
class Referrals:
    """Referral text per language, with the organizations appended."""

    text: dict[str, str]
    organizations: tuple[Organization, ...] = ()

    def for_language(self, language: str) -> str:
        """The referral in a language, falling back to English."""
        base = self.text.get(language) or self.text.get("en") or next(iter(self.text.values()))
        if not self.organizations:
            return base
        listed = "; ".join(
            " ".join(x for x in (o.name, o.phone and f"({o.phone})", o.url) if x) for o in self.organizations
        )
        return f"{base} {listed}."


def load_referrals(path: Path) -> Referrals:
    """Read and validate the referral file; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        data = ReferralFile.model_validate(raw)
    except OSError as exc:
        raise CorpusError(f"{path}: referral file cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: referral file is not valid YAML") from exc
    except ValidationError as exc:
        raise field_error(path, "referral", exc) from exc
    if "en" not in data.referral:
        raise CorpusError(f"{path}: referral field 'referral.en' is required")
    return Referrals(text=dict(data.referral), organizations=tuple(data.organizations))
