"""Hybrid retrieval on the real model and index: lay-language questions find the right paragraph."""

import pytest

from bot.answer import Answerer
from bot.retrieve import PassageRetriever
from tests.conftest import ARTICLE

pytestmark = pytest.mark.slow

LAY_QUESTIONS = [
    ("will baltimore cops help ICE arrest people", 6),
    ("can la migra set up shop in city buildings", 3),
    ("do ICE agents need a warrant to use city property", 3),
    ("do city lawyers charge money for immigration cases", 7),
    ("can i get a free atorney from the city for my immigration case", 7),
    ("is the city gonna sue the feds", 8),
    ("what did the white house lady say", 9),
    ("is that 1300 percent thing legit", 10),
    ("did casa say anything", 12),
    ("why did the mayor do this", 4),
    ("what did scott say on the radio", 5),
    ("has ice used city property yet", 3),
    ("is the police department gonna work with immigration", 6),
    ("who criticized the mayors order", 9),
]


@pytest.mark.parametrize(("question", "paragraph"), LAY_QUESTIONS)
def test_lay_questions_find_the_right_paragraph_in_the_top_3(answerer: Answerer, question: str, paragraph: int) -> None:
    retriever = answerer.retriever
    hits = retriever.retrieve(retriever.analyze(question), k=3)
    assert f"{ARTICLE}#p{paragraph}" in [h.passage.id for h in hits]


@pytest.mark.parametrize(("term", "paragraph"), [("CASA", 12), ("1300%", 10), ("Midday", 5), ("pro bono", 7)])
def test_names_and_numbers_rank_first(answerer: Answerer, term: str, paragraph: int) -> None:
    retriever = answerer.retriever
    assert retriever.retrieve(retriever.analyze(term), k=1)[0].passage.id == f"{ARTICLE}#p{paragraph}"


def test_the_langchain_retriever_returns_scored_passages(answerer: Answerer) -> None:
    docs = PassageRetriever(hybrid=answerer.retriever, k=3).invoke("Can the police help ICE?")
    assert len(docs) == 3
    assert docs[0].metadata["passage_id"] == f"{ARTICLE}#p6"
    assert all(d.metadata["score"] > 0 for d in docs)
    assert docs[0].metadata["score"] >= docs[-1].metadata["score"]
