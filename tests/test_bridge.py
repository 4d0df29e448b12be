"""Words matched across languages: a foreign word takes the corpus words nearest to it, none when none is near, and
names never stand for anything. Fake word vectors where the model is not the point; the real one last."""

import numpy as np
import pytest

from bot import embeddings
from bot.bridge import BridgePolicy, WordBridge
from bot.query import QueryAnalyzer
from bot.text import stem

# Unit vectors at chosen angles: cos("multa", "fine") = 0.96, cos("licencia", anything) <= 0.6.
ANGLES = {"multa": 0.0, "fine": 0.28, "penalty": 0.3, "heat": 1.2, "water": 1.5, "licencia": 2.2, "harwick": 0.05}


def fake_embed(calls: list[list[str]]):  # type: ignore[no-untyped-def]
    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(list(texts))
        return [[float(np.cos(ANGLES.get(t, 3.0))), float(np.sin(ANGLES.get(t, 3.0)))] for t in texts]

    return embed


ENGLISH = ("en", "Employers in Harwick face a fine for heat violations. Water must be free. Harwick acts.")


def test_a_foreign_word_takes_the_nearest_corpus_words_and_none_when_none_is_near() -> None:
    bridge = WordBridge([ENGLISH], fake_embed([]), BridgePolicy(floor=0.9, spread=0.02))
    found = bridge.nearest(["multa", "licencia"], "en")
    assert found["multa"] == frozenset({stem("fine")})
    # Every word has a nearest one; far is no translation.
    assert found["licencia"] == frozenset()


def test_names_are_no_translation_of_anything() -> None:
    # "Harwick" sits nearest "multa" in the fake space, but a word the corpus only capitalizes is a name.
    bridge = WordBridge([ENGLISH], fake_embed([]), BridgePolicy(floor=0.9, spread=0.1))
    assert stem("harwick") not in bridge.nearest(["multa"], "en")["multa"]


def test_only_a_question_in_another_language_than_the_corpus_is_extended() -> None:
    calls: list[list[str]] = []
    bridge = WordBridge([ENGLISH], fake_embed(calls), BridgePolicy(floor=0.9))
    analyzer = QueryAnalyzer(["employers", "harwick", "fine", "heat", "violations", "water", "free"])
    known = {stem(w) for w in ("employers", "harwick", "fine", "heat", "violations", "water", "free")}.__contains__
    spanish = bridge.extend(analyzer.analyze("¿Cuánto es la multa en Harwick?"), known)
    multa = next(c for c in spanish.concepts if c.word == "multa")
    assert stem("fine") in multa.stems and "multa" in multa.stems
    assert calls, "the Spanish question's unknown word was embedded"
    calls.clear()
    english = analyzer.analyze("how much is the fine in Harwick?")
    assert bridge.extend(english, known) == english
    assert calls == []


def test_month_weekday_and_language_names_cross_languages_by_locale_data_though_english_capitalizes_them() -> None:
    # "Thursday", "January" and "Spanish" are written capitalized, so no word vector stands for them; CLDR does.
    text = ("en", "The office is open on Thursday evenings. Fees rise in January. Forms come in Spanish.")
    known_words = ("office", "open", "thursday", "evenings", "fees", "rise", "january", "forms", "spanish")
    bridge = WordBridge([text], fake_embed([]), BridgePolicy(floor=0.99))
    asked = QueryAnalyzer(known_words).analyze("¿abren los jueves? ¿y en enero? ¿hay formularios en español?")
    stems = {c.word: c.stems for c in bridge.extend(asked, set().__contains__).concepts}
    assert stem("thursday") in stems["jueves"] and stem("january") in stems["enero"]
    assert stem("spanish") in stems["espanol"]
    # Other words get nothing from the locale data.
    assert not any(stem(name) in stems["abren"] for name in ("thursday", "january", "spanish"))
    spanish = WordBridge([("es", "La oficina abre los jueves.")], fake_embed([]), BridgePolicy(floor=0.99))
    asked = QueryAnalyzer(["oficina", "abre", "jueves"]).analyze("open on Thursday?")
    english = spanish.extend(asked, set().__contains__)
    assert stem("jueves") in next(c for c in english.concepts if c.word == "thursday").stems


def test_a_new_index_version_embeds_only_the_words_it_adds() -> None:
    calls: list[list[str]] = []
    first = WordBridge([ENGLISH], fake_embed(calls))
    first.prepare()
    # "Employers" and "Water" only open sentences, and "Harwick" is a name: none is written in lower case.
    assert sorted(calls[0]) == ["acts", "face", "fine", "free", "heat", "must", "violations"]
    calls.clear()
    grown = ("en", f"{ENGLISH[1]} A penalty applies.")
    second = WordBridge([grown], fake_embed(calls), known=first.word_vectors)
    second.prepare()
    assert calls == [["applies", "penalty"]]
    # A version without the heat sentence keeps no vector for its words.
    third = WordBridge([("en", "A penalty applies.")], fake_embed(calls), known=second.word_vectors)
    assert sorted(third.word_vectors) == ["applies", "penalty"]


def test_the_vocabulary_is_bounded_commonest_words_first() -> None:
    texts = [("en", "heat water"), ("en", "heat fine"), ("en", "heat water")]
    bridge = WordBridge(texts, fake_embed([]), BridgePolicy(max_words=2))
    bridge.prepare()
    assert sorted(bridge.word_vectors) == ["heat", "water"]


@pytest.mark.slow
@pytest.mark.skipif(not embeddings.cpu_supports_e5(), reason="this CPU cannot run the multilingual model")
def test_the_multilingual_model_matches_spanish_words_to_english_ones() -> None:
    model = embeddings.get_multilingual_embeddings()
    assert model is not None
    text = "Workers can call the heat line. Employers must give free water and shade to every worker."
    bridge = WordBridge([("en", text)], model.embed_documents)
    found = bridge.nearest(["calor", "agua", "gratis", "ordenanza"], "en")
    assert stem("heat") in found["calor"]
    assert stem("water") in found["agua"]
    assert stem("free") in found["gratis"]
    # The text has no word for an ordinance: nothing stands for it.
    assert found["ordenanza"] == frozenset()


def test_a_long_question_has_a_bounded_number_of_words_matched() -> None:
    calls: list[list[str]] = []
    bridge = WordBridge([ENGLISH], fake_embed(calls), BridgePolicy(max_question_words=3))
    bridge.prepare()
    calls.clear()
    analyzer = QueryAnalyzer(["fine"])
    many = "renta casa perro gato calle ciudad agua luz tiempo semana trabajo patrón dueño casero"
    query = analyzer.analyze(f"¿Cuánto es la multa de la {many}?")
    assert query.language == "es" and len(query.concepts) > 10
    bridge.extend(query, {stem("fine")}.__contains__)
    assert [len(c) for c in calls] == [3]
