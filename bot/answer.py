"""Question (+ history) + retrieved passages → a short answer, every sentence cited, or an abstention.

The embedded answerer writes no words of its own about what the sources say: a fitted scorer (bot/scorer.py) picks
the sentences that answer, which are made to stand alone (pronouns resolved where that is certain, quotes
attributed, contested claims paired with what contests them) and cited. When the scorer finds the sources don't
answer, it abstains with a referral."""

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from bot.attribution import Unit, render
from bot.errors import BadQuestion
from bot.features import QUESTION_FEATURES, SENTENCE_FEATURES, Features, question_features, sentence_features
from bot.language import detect_language, language_name, message
from bot.profile import Profile
from bot.query import INJECTION, Concept, Query
from bot.records import Answer, Citation
from bot.referrals import Referrals
from bot.retrieve import HybridRetriever
from bot.scorer import Scorer, Scorers, load_scorers
from bot.snapshot import Snapshot
from bot.text import clean

logger = logging.getLogger(__name__)

# Kinds of fact that only a sentence holding one can give: no sentence without a clock time says when an office
# opens, and none without a number is a phone number. (Other kinds are features the scorer weighs: "is it free?"
# asks about money and is answered by "free of charge".)
STRICT_KINDS = frozenset({"hours", "phone", "email"})
# "It does not pay for:" introduces a list about what the sentence before it names.
PRONOUN_START = re.compile(r"(?:It|They|He|She)\b")


@dataclass(frozen=True)
class AnswerPolicy:
    """The knobs of answer length; which sentences answer, and whether any does, is the scorer's to decide."""

    max_sentences: int = 3
    max_words: int = 75
    max_question_chars: int = 1000
    # A further sentence must be at least this share as likely to answer as the best one.
    relative_select: float = 0.85
    # Probabilities this close to the best one are a tie, broken by the kind of fact asked for, then by how much of
    # the question a sentence mentions.
    tie_margin: float = 0.98
    # A resident's own situation is answered only when the evidence mentions most of what they describe ("ICE is
    # at my door" is not answered by a sentence about city property that shares the word "ICE").
    personal_min_coverage: float = 0.6


@dataclass(frozen=True)
class Judgement:
    """The candidate sentences with their features and each one's probability of answering; the probability that
    the sources answer the question at all and the one it needs; the scorer (of the question's view) behind them."""

    features: Features
    probabilities: np.ndarray
    answerable: float
    needed: float
    scorer: Scorer


@dataclass
class _Selection:
    units: list[Unit] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def check_question(raw: object, max_chars: int) -> str:
    """The question as clean text, or BadQuestion saying why it cannot be answered."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadQuestion(message("en", "not_text"), "not_text") from exc
    if not isinstance(raw, str):
        raise BadQuestion(message("en", "not_text"), "not_text")
    if "\ufffd" in raw:
        raise BadQuestion(message("en", "not_text"), "not_text")
    text = clean(raw)
    if not text:
        raise BadQuestion(message("en", "empty"), "empty")
    if len(text) > max_chars:
        raise BadQuestion(message(detect_language(text), "too_long", n=len(text), limit=max_chars))
    return text


class Answerer:
    """The one answer path shared by the CLI, the web chat and the evals."""

    def __init__(
        self,
        retriever: HybridRetriever,
        referrals: Referrals,
        policy: AnswerPolicy | None = None,
        log_questions: bool = False,
        scorers: Scorers | None = None,
        profile: Profile | None = None,
    ) -> None:
        self.retriever = retriever
        self.referrals = referrals
        self.policy = policy or AnswerPolicy()
        self.scorers = scorers or load_scorers()
        self.profile = profile or Profile()
        self.messages = self.profile.messages()
        self.log_questions = log_questions

    def warm_up(self) -> None:
        """Load everything a first question would otherwise wait for."""
        self.retriever.warm_up()

    def ask(self, question: object, history: Sequence[str] = ()) -> Answer:
        """Answer one question; raises BadQuestion for input that is not a question."""
        started = time.perf_counter()
        text = check_question(question, self.policy.max_question_chars)
        snap = self.retriever.refresh()  # one index version for every step of this answer
        query = snap.analyze(text, tuple(clean(h) for h in history if isinstance(h, str) and h.strip()))
        answer = self._answer(query, query.language, snap)
        answer = _with_latency(answer, started, text)
        # What operators see by default: the kind of answer and its cost, never what the resident wrote.
        logger.info(
            "answered kind=%s language=%s citations=%d latency_ms=%.1f",
            answer.kind,
            answer.language,
            len(answer.citations),
            answer.latency_ms,
        )
        if self.log_questions:
            logger.info("question=%r", text)
        return answer

    def refusal(self, question: str, reason: str, language: str | None = None) -> Answer:
        """An abstention for input that could not be read as a question (used where an error cannot be raised), in
        the given language or the question's."""
        language = language or (detect_language(question) if question.strip() else "en")
        return Answer(
            question=question,
            text=f"{reason} {self.referrals.for_language(language)}",
            abstained=True,
            language=language,
            kind="invalid",
            referral=self.referrals.for_language(language),
        )

    def say(self, language: str, key: str, **values: object) -> str:
        """One of civicbot's own sentences, with the corpus profile's wording where it has one."""
        own = self.messages.get(language, {}).get(key) or self.messages.get("en", {}).get(key)
        return own.format(**values) if own else message(language, key, **values)

    def judge(self, query: Query, snap: Snapshot) -> Judgement:
        """Retrieve for the question and score what was found with the scorer of the view it was read with."""
        found = self.retriever.search(query, snapshot=snap)
        scorer = self.scorers.for_view(found.multilingual)
        features = sentence_features(query, found, snap)
        probabilities = scorer.sentence.predict(features.rows)
        question = question_features(query, features, probabilities)
        across = bool(question[QUESTION_FEATURES.index("cross_language")])
        needed = scorer.threshold(query.legal_advice, cross_language=across)
        answerable = float(scorer.question.predict(question[None, :])[0])
        return Judgement(features, probabilities, answerable, needed, scorer)

    def _answer(self, query: Query, language: str, snap: Snapshot) -> Answer:
        referral = self.referrals.for_language(language)
        concepts = query.concepts or query.context
        if not concepts:
            key = "injection" if query.injection else "not_covered"
            return self._abstain(query, language, self.say(language, key), "out_of_scope")
        judged = self.judge(query, snap)
        probabilities = judged.probabilities
        signals = {
            "answerable": round(judged.answerable, 4),
            "best": round(float(probabilities.max()), 4) if len(probabilities) else 0.0,
            "coverage": round(max(judged.features.coverage, default=0.0), 4),
        }
        selection = self._select(judged, query, snap)
        uncovered = query.legal_advice and signals["coverage"] < self.policy.personal_min_coverage
        if judged.answerable < judged.needed or not selection.units or uncovered:
            if query.legal_advice:
                head = f"{self.say(language, 'legal_advice')} {referral}"
                return self._abstain(query, language, head, "legal_advice", signals)
            return self._abstain(query, language, self.say(language, "not_covered"), "out_of_scope", signals)
        body, citations = self._compose(selection, concepts, snap)
        other = sorted({c.passage.language for c in citations} - {language})
        names = " / ".join(language_name(lang, language) for lang in other)
        lead = self.say(language, "lead", source_language=names) if other else ""
        # A resident's own case: what the sources say, then plainly that this is not advice, and where to turn.
        tail = f" {self.say(language, 'personal_note')} {referral}" if query.legal_advice else ""
        return Answer(
            question=query.text,
            text=f"{lead} {body}{tail}".strip(),
            abstained=False,
            citations=citations,
            language=language,
            kind="answer",
            referral=referral if tail else "",
            signals=signals,
        )

    def _abstain(
        self, query: Query, language: str, reason: str, kind: str, signals: dict[str, float] | None = None
    ) -> Answer:
        referral = self.referrals.for_language(language)
        text = reason if referral in reason else f"{reason} {referral}"
        return Answer(
            question=query.text,
            text=text,
            abstained=True,
            language=language,
            kind=kind,  # type: ignore[arg-type]
            referral=referral,
            signals=signals or {},
        )

    # -- selection ---------------------------------------------------------------------------------------------

    def _select(self, judged: Judgement, query: Query, snap: Snapshot) -> _Selection:
        """The most likely answering sentence, then others nearly as likely, up to the length limits."""
        features, probabilities = judged.features, judged.probabilities
        order = [
            i
            for i in np.argsort(-probabilities)
            if probabilities[i] >= judged.scorer.select_threshold
            # An instruction planted in a document ("Ignore previous instructions…") is not a fact to repeat.
            and not INJECTION.search(features.candidates[i].unit.text)
        ]
        if query.asks in STRICT_KINDS:
            order = [i for i in order if query.answered_by(features.candidates[i].unit.text)]
        if not order:
            return _Selection()
        floor = self.policy.relative_select * probabilities[order[0]]
        # Where the scorer cannot tell two sentences apart, the one that gives the kind of fact asked for, then the
        # one that mentions more of the question, leads: a quote that shares one word with the question should not
        # stand in for the sentence that answers it.
        near = [i for i in order if probabilities[i] >= self.policy.tie_margin * probabilities[order[0]]]
        match = features.rows[:, SENTENCE_FEATURES.index("kind_match")]
        lead = max(near, key=lambda i: (match[i], features.coverage[i]))
        order = [lead, *(i for i in order if i != lead)]
        chosen: list[Unit] = []
        picked = 0
        for i in order:
            if picked >= self.policy.max_sentences or probabilities[i] < floor:
                break
            # A sentence comes with the ones it cannot stand without; the whole block must fit the length limit.
            with_block = self._with_context([*chosen, features.candidates[i].unit], snap, query.asks == "person")
            if chosen and sum(len(u.text.split()) for u in with_block) > self.policy.max_words:
                continue
            chosen, picked = with_block, picked + 1
        scores = {c.unit.passage.id: float(p) for c, p in zip(features.candidates, probabilities, strict=True)}
        return _Selection(units=chosen, scores=scores)

    def _with_context(self, chosen: list[Unit], snap: Snapshot, name_speakers: bool = False) -> list[Unit]:
        """Each chosen sentence, best first, with the sentences it cannot stand without, in source order: a claim
        the source goes on to contest ("However, …") never appears without that contest; a sentence that points back
        ("no such actions") never appears without the one it points at, nor that one without it; a sentence that
        introduces a speaker brings the next one, which says what they said ("She said …"); a list item comes after
        its introduction, and an introduction before its items; and speech by a "she" no
        name was found for comes after the sentences back to the one that names her, or first (unless the question
        asks who), or not at all."""
        out: list[Unit] = []
        placed: set[tuple[str, int]] = set()
        for unit in chosen:
            block = [unit]
            preceding = self._preceding(unit, snap) if unit.contrasts or unit.refers_back else None
            if preceding is not None:
                block.insert(0, preceding)
            if unit.unnamed_speaker and (out or name_speakers):
                named = self._back_to_speaker(unit, snap)
                if named is None and out:
                    continue  # after another sentence, "she added" would read as that sentence's speaker's words
                block = [*(named or []), *block]
            introduction, items = self._list_context(unit, snap)
            block = [*introduction, *block, *items]
            following = self._following(unit, snap)
            if following is not None:
                same_passage = following.passage.id == unit.passage.id
                continues = same_passage and following.text.startswith(("He ", "She "))
                if (
                    following.contrasts
                    or (same_passage and following.refers_back)
                    or (continues and following.speaker and following.speaker in unit.text)
                ):
                    block.append(following)
            for u in block:
                if u.key in placed:
                    continue
                placed.add(u.key)
                # A sentence whose speaker the one before it names goes right after that one, wherever it is.
                before = next((i for i, v in enumerate(out) if v.key == (u.passage.id, u.index - 1)), None)
                if u.unnamed_speaker and before is not None:
                    out.insert(before + 1, u)
                else:
                    out.append(u)
        return out

    def _list_context(self, unit: Unit, snap: Snapshot) -> tuple[list[Unit], list[Unit]]:
        """What a list item needs before it (its introduction, and what an "It" there stands for) and what an
        introduction needs after it (its items): "pipes inside the home" means nothing without "It does not pay
        for:", nor "Please bring:" without the list."""
        items = self._list_after(unit, snap) if unit.text.rstrip().endswith(":") else []
        intro = self._list_intro(unit, snap)
        if intro is None:
            return [], items
        leans = intro.refers_back or intro.contrasts or bool(PRONOUN_START.match(intro.text))
        lead_in = self._preceding(intro, snap) if leans else None
        return ([lead_in, intro] if lead_in is not None else [intro]), items

    def _list_after(self, unit: Unit, snap: Snapshot) -> list[Unit]:
        """The items of the list a sentence introduces, as many as fit the length limit: the sentences after it that
        have it as their context."""
        items: list[Unit] = []
        words = len(unit.text.split())
        passage = snap.next_passage(unit.passage) if unit.passage.n > 0 else None
        while passage is not None and passage.context.endswith(unit.text.strip()):
            for item in snap.units(passage):
                words += len(item.text.split())
                if words > self.policy.max_words:
                    return items
                items.append(item)
            passage = snap.next_passage(passage)
        return items

    def _list_intro(self, unit: Unit, snap: Snapshot) -> Unit | None:
        """The sentence that introduces the list a sentence is an item of, if it is one."""
        intro = unit.passage.context.rpartition(" — ")[2]
        if not intro.endswith(":"):
            return None
        passage = snap.previous_passage(unit.passage)
        while passage is not None and passage.n > 0:
            units = snap.units(passage)
            if units and intro.endswith(units[-1].text.strip()):
                return units[-1]
            if not passage.context.endswith(intro):
                return None
            passage = snap.previous_passage(passage)
        return None

    def _back_to_speaker(self, unit: Unit, snap: Snapshot, limit: int = 3) -> list[Unit] | None:
        """The sentences before a pronoun's reported speech, back to the nearest one that names a speaker of the
        document (at most `limit`), in source order; None when none of them does."""
        surnames = snap.speakers(unit.passage.slug).surnames
        chain: list[Unit] = []
        current = unit
        for _ in range(limit):
            previous = self._preceding(current, snap)
            if previous is None:
                return None
            chain.insert(0, previous)
            if previous.speaker or any(re.search(rf"\b{re.escape(name)}\b", previous.text) for name in surnames):
                return chain
            if not previous.unnamed_speaker:
                return None  # a sentence between that names nobody and quotes nobody: the thread is lost
            current = previous
        return None

    # Passage 0 (publication details) is not part of the article's text: context never crosses into or out of it.
    # Nor does it cross a heading: "This ordinance takes effect…" opening a section points at the document, not at
    # the last sentence of the section before.
    def _preceding(self, unit: Unit, snap: Snapshot) -> Unit | None:
        if unit.index > 0:
            return snap.units(unit.passage)[unit.index - 1]
        before = snap.previous_passage(unit.passage) if unit.passage.n > 1 else None
        return snap.units(before)[-1] if before is not None and before.context == unit.passage.context else None

    def _following(self, unit: Unit, snap: Snapshot) -> Unit | None:
        units = snap.units(unit.passage)
        if unit.index + 1 < len(units):
            return units[unit.index + 1]
        nxt = snap.next_passage(unit.passage) if unit.passage.n > 0 else None
        return snap.units(nxt)[0] if nxt is not None and nxt.context == unit.passage.context else None

    # -- composition -------------------------------------------------------------------------------------------

    def _compose(
        self, selection: _Selection, concepts: Sequence[Concept], snap: Snapshot
    ) -> tuple[str, tuple[Citation, ...]]:
        """Sentences best first (each with its context), each with the [n] of its passage; citations numbered by first
        use."""
        relevant = frozenset(s for c in concepts for s in c.stems)
        ordered = selection.units
        numbers: dict[str, int] = {}
        used: dict[str, list[str]] = {}
        introduced: set[str] = set()
        sentences = []
        # Sentences from more than one document say which document says what.
        several = len({u.passage.slug for u in ordered}) > 1
        labelled: set[str] = set()
        for unit in ordered:
            n = numbers.setdefault(unit.passage.id, len(numbers) + 1)
            used.setdefault(unit.passage.id, []).append(unit.text)
            speakers = snap.speakers(unit.passage.slug)
            sentence = render(unit, speakers, introduced, relevant)
            introduced.update(name for name in speakers.surnames if name in sentence)
            if several and unit.passage.slug not in labelled:
                labelled.add(unit.passage.slug)
                sentence = f"“{unit.passage.document}”: {sentence}"
            sentences.append(_cite(sentence, n))
        by_id = {u.passage.id: u.passage for u in ordered}
        citations = tuple(
            Citation(n=n, passage=by_id[pid], score=selection.scores.get(pid, 0.0), used=tuple(used[pid]))
            for pid, n in numbers.items()
        )
        return " ".join(sentences), citations


def _cite(sentence: str, n: int) -> str:
    """Put the marker before the closing full stop, as in '… judicial warrant [1].'"""
    sentence = sentence.rstrip()
    if sentence.endswith(" ."):
        sentence = sentence[:-2] + "."
    if sentence.endswith((".", ":", ";")) and not sentence.endswith("..."):
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    if sentence[-1:].isalnum() or sentence.endswith(")"):  # a list item: it reads as a sentence of the answer
        return f"{sentence} [{n}]."
    return f"{sentence} [{n}]"


def _with_latency(answer: Answer, started: float, question: str) -> Answer:
    return replace(answer, question=question, latency_ms=(time.perf_counter() - started) * 1000)
