"""Question (+ history) + retrieved passages → a short answer, every sentence cited, or an abstention.

The embedded answerer writes no words of its own about what the sources say: a fitted scorer (bot/scorer.py) picks
the sentences that answer, which are made to stand alone (pronouns resolved where that is certain, quotes
attributed, contested claims paired with what contests them) and cited. When the scorer finds the sources don't
answer, it abstains with a referral."""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from bot.attribution import Unit, render
from bot.context import with_context
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
from bot.text import clean, ends_with_abbreviation

logger = logging.getLogger(__name__)

# Kinds of fact that only a sentence holding one can give: no sentence without a clock time says when an office
# opens, and none without a number is a phone number. (Other kinds are features the scorer weighs: "is it free?"
# asks about money and is answered by "free of charge".)
STRICT_KINDS = frozenset({"hours", "phone", "email"})


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


@dataclass(frozen=True)
class Judgement:
    """The candidate sentences with their features and each one's probability of answering; the probability that
    the sources answer the question at all and the one it needs; the scorer (of the question's view) behind them."""

    features: Features
    probabilities: np.ndarray
    answerable: float
    needed: float
    scorer: Scorer
    compared: frozenset[str] = frozenset()  # the documents the question names as a whole, when it names several
    named: frozenset[str] | None = None  # the documents the question singles out by name, if it does


@dataclass
class _Selection:
    units: list[Unit] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    untold: int = 0  # documents whose publication details fit as well as those given, but found no room


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
        compared = snap.documents_compared(query)
        return Judgement(features, probabilities, answerable, needed, scorer, compared, found.named)

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
            "needed": round(judged.needed, 4),
            "best": round(float(probabilities.max()), 4) if len(probabilities) else 0.0,
            "coverage": round(max(judged.features.coverage, default=0.0), 4),
        }
        selection = self._select(judged, query, snap)
        # What to do in one's own case ("should I sue?") is advice, whatever the sources say; a resident's case told
        # beside a question of fact ("I'm 67, do I have to pay?") is answered from the sources, marked as no advice.
        if judged.answerable < judged.needed or not selection.units or query.decision:
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
        if selection.untold:
            key = "more_documents" if selection.untold > 1 else "more_document"
            tail = f" {self.say(language, key, n=selection.untold)}{tail}"
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
            with_block = self._adding(chosen, features.candidates[i].unit, query, snap)
            if with_block is not None:
                chosen, picked = with_block, picked + 1
        # A question that names several documents ("Harwick or Dunmore Springs?") is answered from each of them
        # that has a sentence likely enough to answer, however much likelier the other's best one is.
        for slug in sorted(judged.compared - {u.passage.slug for u in chosen}):
            best = next((i for i in order if features.candidates[i].unit.passage.slug == slug), None)
            with_block = self._adding(chosen, features.candidates[best].unit, query, snap) if best is not None else None
            chosen = with_block if with_block is not None else chosen
        scores = {c.unit.passage.id: float(p) for c, p in zip(features.candidates, probabilities, strict=True)}
        return _Selection(units=chosen, scores=scores, untold=self._untold(chosen, judged, snap))

    def _untold(self, chosen: list[Unit], judged: Judgement, snap: Snapshot) -> int:
        """How many documents' publication details fit a question about the publication that names no document
        ("when was this published?") as well as those given, but found no room: told as a count, so that the details
        of the documents given are not taken for the only ones."""
        headers = {u.passage.slug for u in chosen if u.passage.n == 0}
        if len(headers) < self.policy.max_sentences or judged.named is not None or judged.compared:
            return 0
        return len(snap.slugs) - len(headers)

    def _adding(self, chosen: list[Unit], unit: Unit, query: Query, snap: Snapshot) -> list[Unit] | None:
        """The chosen sentences and this one, each with the sentences it cannot stand without, or None when that
        block breaks the length limit (the first sentence is always taken)."""
        block = with_context([*chosen, unit], snap, self.policy.max_words, query.asks == "person")
        fits = sum(len(u.text.split()) for u in block) <= self.policy.max_words
        return block if fits or not chosen else None

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
                # The publication details name their document already.
                sentence = sentence if unit.passage.n == 0 else f"“{unit.passage.document}”: {sentence}"
            sentences.append(_cite(sentence, n))
        by_id = {u.passage.id: u.passage for u in ordered}
        citations = tuple(
            Citation(n=n, passage=by_id[pid], score=selection.scores.get(pid, 0.0), used=tuple(used[pid]))
            for pid, n in numbers.items()
        )
        return " ".join(sentences), citations


def _cite(sentence: str, n: int) -> str:
    """Put the marker before the closing full stop, as in '… judicial warrant [1].', unless that stop is part of
    an abbreviation ('… 4:30 p.m. [1]')."""
    sentence = sentence.rstrip()
    if sentence.endswith(" ."):
        sentence = sentence[:-2] + "."
    if ends_with_abbreviation(sentence):
        return f"{sentence} [{n}]"
    if sentence.endswith((".", ":", ";")) and not sentence.endswith("..."):
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    if sentence[-1:].isalnum() or sentence.endswith(")"):  # a list item: it reads as a sentence of the answer
        return f"{sentence} [{n}]."
    return f"{sentence} [{n}]"


def _with_latency(answer: Answer, started: float, question: str) -> Answer:
    return replace(answer, question=question, latency_ms=(time.perf_counter() - started) * 1000)
