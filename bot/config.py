"""One settings object; the only place that reads environment variables."""

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated

import limits
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """civicbot settings, read from CIVICBOT_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="CIVICBOT_", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="index, feedback and logs")
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="folder of Markdown documents")
    referrals_file: Path | None = Field(default=None, description="referral text; default corpus_dir/referrals.yaml")
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "passages"
    multilingual: bool = Field(default=True, description="embed Spanish questions with multilingual-e5-small")
    sentence_collection: str = "sentences"
    sentence_multilingual_collection: str = "sentences_multilingual"
    hints: bool = Field(default=True, description="use the corpus's optional word hints (corpus/hints.yaml)")
    top_k: int = Field(default=4, ge=1, le=20, description="passages considered for an answer")
    max_question_chars: int = Field(default=1000, ge=10, description="longer questions are refused")
    max_answer_sentences: int = Field(default=3, ge=1, le=6)
    reload_s: float = Field(default=2.0, gt=0, description="how often a server looks for a newly ingested index")
    feedback_enabled: bool = True
    log_questions: bool = Field(default=False, description="log question text (off: only counts and latencies)")
    max_import_mb: float = Field(default=200, gt=0, description="`civicbot add` refuses larger files")
    rate_limit: str | None = Field(default=None, description="questions per client, e.g. 30/minute; unset: no limit")
    # Only a proxy named here may say who its client is (X-Forwarded-For); anyone else could claim any address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated addresses or CIDRs of reverse proxies"
    )

    @field_validator("rate_limit")
    @classmethod
    def _parse_rate_limit(cls, value: str | None) -> str | None:
        if value is None or not value.strip() or value.strip().lower() in {"off", "none", "0"}:
            return None
        limits.parse_many(value)  # raises ValueError naming what it could not read
        return value.strip()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v for v in value.replace(",", " ").split() if v]
        if isinstance(value, list):
            for v in value:
                ipaddress.ip_network(str(v), strict=False)
        return value

    @cached_property
    def referrals_path(self) -> Path:
        """The referral file in use."""
        return self.referrals_file or self.corpus_dir / "referrals.yaml"

    @property
    def chroma_path(self) -> Path:
        """Where the embedded Chroma store lives."""
        return self.data_dir / "chroma"

    @property
    def feedback_path(self) -> Path:
        """The append-only JSONL file of residents' votes."""
        return self.data_dir / "feedback.jsonl"
