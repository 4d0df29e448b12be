"""Question (+ history) + retrieved passages → a short answer, every sentence cited, or an abstention.

The embedded answerer writes no words of its own about the order: it selects the sentences of the sources that
answer, makes them stand alone (pronouns resolved, quotes attributed, contested claims paired with what contests
them) and cites each one. It abstains when the selected evidence does not cover what the question asks about."""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.attribution import Unit, render
from bot.errors import BadQuestion
from bot.language import detect_language, message
from bot.passages import without_headline
from bot.query import INJECTION, Concept, Query
from bot.records import Answer, Citation, Hit
from bot.referrals import Referrals
from bot.retrieve import HybridRetriever, Snapshot
from bot.text import clean, terms

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerPolicy:
    """The knobs of sentence selection and abstention; `civicbot eval` measures the effect of changing them.

    min_coverage is the share of the question's idf-weighted concepts the chosen sentences must mention, else the
    answer abstains. 0.5 is where `civicbot eval` puts it on the calibration half of the eval questions: two-thirds
    of the way up the best-F1 plateau (0.15–0.65), leaning toward abstaining because answering a question the sources
    don't cover costs a resident more; it is perfect on the held-out half (plateau 0.3–0.65). The middle of the
    plateau (0.4) let unseen questions through ("How much does a bus ticket cost?" covers 0.40). The eval re-derives
    the threshold on every run and reports the precision/recall curve on both halves.
    min_gain is what a further sentence must add to be worth a resident's reading."""

    min_coverage: float = 0.5
    min_gain: float = 0.25
    max_sentences: int = 3
    max_words: int = 75
    max_question_chars: int = 1000


@dataclass
class _Selection:
    units: list[Unit] = field(default_factory=list)
    coverage: float = 0.0
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
    ) -> None:
        self.retriever = retriever
        self.referrals = referrals
        self.policy = policy or AnswerPolicy()
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

    def refusal(self, question: str, reason: str) -> Answer:
        """An abstention for input that could not be read as a question (used where an error cannot be raised)."""
        language = detect_language(question) if question.strip() else "en"
        return Answer(
            question=question,
            text=f"{reason} {self.referrals.for_language(language)}",
            abstained=True,
            language=language,
            kind="invalid",
            referral=self.referrals.for_language(language),
        )

    def _answer(self, query: Query, language: str, snap: Snapshot) -> Answer:
        referral = self.referrals.for_language(language)
        concepts = query.concepts or query.context
        if not concepts:
            key = "injection" if query.injection else "not_covered"
            return self._abstain(query, language, message(language, key), "out_of_scope")
        hits = self.retriever.retrieve(query, snapshot=snap)
        selection = self._select(hits, concepts, query, snap)
        signals = {"coverage": round(selection.coverage, 4), "dense": hits[0].dense_similarity if hits else 0.0}
        supported = selection.coverage >= self.policy.min_coverage and bool(selection.units)
        if query.legal_advice:
            head = f"{message(language, 'legal_advice')} {referral}"
            if not supported:
                return self._abstain(query, language, head, "legal_advice", signals)
            body, citations = self._compose(selection, concepts, snap)
            return Answer(
                question=query.text,
                text=f"{head} {message(language, 'sources_say')} {body}",
                abstained=True,
                citations=citations,
                language=language,
                kind="legal_advice",
                referral=referral,
                signals=signals,
            )
        if not supported:
            return self._abstain(query, language, message(language, "not_covered"), "out_of_scope", signals)
        body, citations = self._compose(selection, concepts, snap)
        lead = message(language, "lead")
        return Answer(
            question=query.text,
            text=f"{lead} {body}".strip(),
            abstained=False,
            citations=citations,
            language=language,
            kind="answer",
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

    def _select(self, hits: Sequence[Hit], concepts: Sequence[Concept], query: Query, snap: Snapshot) -> _Selection:
        """Greedy coverage: the best sentence, then sentences that cover what it left out; only sentences that hold
        the kind of fact the question asks for (a date for "when") are candidates."""
        units = [
            (hit, unit)
            for hit in hits
            for unit in snap.units(hit.passage)
            # An instruction planted in a document ("Ignore previous instructions…") is not a fact to repeat.
            if query.answered_by(unit.text) and not INJECTION.search(unit.text)
        ]
        if not units:
            return _Selection()
        weights = snap.concept_weights(concepts)
        total = sum(weights) or 1.0
        top = hits[0].score or 1.0
        scored: list[tuple[float, frozenset[int], Unit]] = []
        for hit, unit in units:
            stems = _matchable_stems(unit, query)
            hit_concepts = frozenset(i for i, c in enumerate(concepts) if c.stems & stems)
            cov = sum(weights[i] for i in hit_concepts) / total
            scored.append((cov + 0.2 * hit.dense_similarity + 0.1 * hit.score / top, hit_concepts, unit))
        scored.sort(key=lambda t: -t[0])
        _, best_cov, best = scored[0]
        chosen, covered = [best], set(best_cov)
        words = len(best.text.split())
        while len(chosen) < self.policy.max_sentences:
            gains = [
                (sum(weights[i] for i in cov - covered) / total, s, cov, u)
                for s, cov, u in scored
                if u not in chosen and words + len(u.text.split()) <= self.policy.max_words
            ]
            gains = [g for g in gains if g[0] >= self.policy.min_gain]
            if not gains:
                break
            _, _, new, unit = max(gains, key=lambda g: (g[0], g[1]))
            chosen.append(unit)
            covered |= new
            words += len(unit.text.split())
        full = {u.passage.id for s, cov, u in scored if len(cov) == len(concepts) and u.passage.n}
        if len(concepts) <= 1 and len(full) >= 3:
            chosen = self._overview(chosen, [u for _, _, u in scored])
        chosen = self._with_context(chosen, snap)
        coverage = sum(weights[i] for i in covered) / total
        scores = {h.passage.id: h.dense_similarity for h in hits}
        return _Selection(units=chosen, coverage=coverage, scores=scores)

    def _overview(self, chosen: list[Unit], ranked: list[Unit]) -> list[Unit]:
        """A broad question ("what does the order do?") is covered by any one sentence: add the best sentence of each
        of the next passages, so the answer is an overview rather than an arbitrary pick."""
        out = list(chosen)
        words = sum(len(u.text.split()) for u in out)
        for unit in ranked:
            if len(out) >= self.policy.max_sentences or words + len(unit.text.split()) > self.policy.max_words:
                break
            if unit.passage.n and unit.passage.id not in {u.passage.id for u in out}:
                out.append(unit)
                words += len(unit.text.split())
        return out

    def _with_context(self, chosen: list[Unit], snap: Snapshot) -> list[Unit]:
        """Each chosen sentence, best first, with the sentences it cannot stand without, in source order: a claim
        the source goes on to contest ("However, …") never appears without that contest; a sentence that points back
        ("no such actions") never appears without the one it points at, nor that one without it; and a sentence that
        introduces a speaker brings the next one, which says what they said ("She said …")."""
        out: list[Unit] = []
        for unit in chosen:
            block = [unit]
            preceding = self._preceding(unit, snap) if unit.contrasts or unit.refers_back else None
            if preceding is not None:
                block.insert(0, preceding)
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
            placed = {u.key for u in out}
            out.extend(u for u in block if u.key not in placed)
        return out

    # Passage 0 (publication details) is not part of the article's text: context never crosses into or out of it.
    def _preceding(self, unit: Unit, snap: Snapshot) -> Unit | None:
        if unit.index > 0:
            return snap.units(unit.passage)[unit.index - 1]
        before = [p for p in snap.document(unit.passage.slug) if p.n == unit.passage.n - 1 and p.n > 0]
        return snap.units(before[0])[-1] if before else None

    def _following(self, unit: Unit, snap: Snapshot) -> Unit | None:
        units = snap.units(unit.passage)
        if unit.index + 1 < len(units):
            return units[unit.index + 1]
        nxt = snap.next_passage(unit.passage) if unit.passage.n > 0 else None
        return snap.units(nxt)[0] if nxt is not None else None

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
        for unit in ordered:
            n = numbers.setdefault(unit.passage.id, len(numbers) + 1)
            used.setdefault(unit.passage.id, []).append(unit.text)
            speakers = snap.speakers(unit.passage.slug)
            sentence = render(unit, speakers, introduced, relevant)
            introduced.update(name for name in speakers.surnames if name in sentence)
            sentences.append(_cite(sentence, n))
        by_id = {u.passage.id: u.passage for u in ordered}
        citations = tuple(
            Citation(n=n, passage=by_id[pid], score=selection.scores.get(pid, 0.0), used=tuple(used[pid]))
            for pid, n in numbers.items()
        )
        return " ".join(sentences), citations


def _matchable_stems(unit: Unit, query: Query) -> frozenset[str]:
    """The stems a sentence answers on. The publication-details passage answers who published, what and when, not
    what its quoted headline is about ("who signed the order?" is for the article's own sentences)."""
    if unit.passage.n == 0 and query.asks != "date":
        return frozenset(terms(without_headline(unit.text)))
    return unit.stems()


def _cite(sentence: str, n: int) -> str:
    """Put the marker before the closing full stop, as in '… judicial warrant [1].'"""
    sentence = sentence.rstrip()
    if sentence.endswith(" ."):
        sentence = sentence[:-2] + "."
    if sentence.endswith(".") and not sentence.endswith("..."):
        return f"{sentence[:-1]} [{n}]."
    return f"{sentence} [{n}]"


def _with_latency(answer: Answer, started: float, question: str) -> Answer:
    return replace(answer, question=question, latency_ms=(time.perf_counter() - started) * 1000)
