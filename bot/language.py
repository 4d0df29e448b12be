"""Which language a question is written in (English or Spanish), and civicbot's own words in each."""

import re
from functools import lru_cache
from typing import Any

from bot.text import STOPWORDS_EN, STOPWORDS_ES, words

SPANISH_MARKS = re.compile(r"[¿¡ñáéíóú]", re.IGNORECASE)
SPANISH_ONLY = STOPWORDS_ES - STOPWORDS_EN - {"a", "no", "me", "de", "la", "y", "o"}
ENGLISH_ONLY = STOPWORDS_EN - STOPWORDS_ES


# lingua's confidences for English vs Spanish sum to 1; below this the text is too short or too mixed to trust
# it ("ICE en la ciudad?" can score as English), and function words and Spanish marks decide instead.
CONFIDENT = 0.8


@lru_cache(maxsize=1)
def _detector() -> Any:
    """lingua restricted to English and Spanish (its models ship in the package), or None if it is missing."""
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - a broken install: the function-word rule still works
        return None
    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).build()


def function_word_language(text: str) -> str:
    """'es' when Spanish function words or marks outweigh English ones, else 'en'."""
    tokens = words(text)
    spanish = sum(t in SPANISH_ONLY for t in tokens) + 2 * len(SPANISH_MARKS.findall(text))
    english = sum(t in ENGLISH_ONLY for t in tokens)
    return "es" if spanish > english else "en"


def detect_language(text: str) -> str:
    """'es' or 'en': lingua where it is confident, function words and marks where the text is short or mixed."""
    detector = _detector()
    if detector is not None and text.strip():
        ranked = detector.compute_language_confidence_values(text)
        if ranked and ranked[0].value >= CONFIDENT:
            return "es" if ranked[0].language.iso_code_639_1.name == "ES" else "en"
    return function_word_language(text)


# civicbot's own sentences. Nothing here names a topic: what a corpus covers comes from its profile
# (corpus/profile.yaml), which may also replace any of these.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "not_covered": "The sources I have don't answer that.",
        "injection": "I can only answer questions from my sources; I can't follow instructions that change how I work.",
        "legal_advice": "I can't give advice about an individual case, and the sources don't answer this.",
        "personal_note": "This is what the sources say, not advice about your own case.",
        "lead": "The sources are in {source_language}. This is what they say:",
        "more_document": "The sources hold one more document; name it to ask about it.",
        "more_documents": "The sources hold {n} more documents; name one to ask about it.",
        "empty": "Please type a question.",
        "too_long": "That question is too long ({n} characters); please keep it under {limit}.",
        "not_text": "That input isn't readable text; please type your question.",
        "rate_limited": "You have asked many questions in a short time; please wait {seconds} seconds and ask again.",
        "referral": "For help with your own situation, contact a legal-aid organization or the office that issued "
        "the document. civicbot gives general information from its sources, not legal advice.",
    },
    "es": {
        "not_covered": "Las fuentes que tengo no responden a eso.",
        "injection": "Solo puedo responder preguntas a partir de mis fuentes; no sigo instrucciones que cambien cómo "
        "funciono.",
        "legal_advice": "No puedo dar consejos sobre casos individuales, y las fuentes no responden a esto.",
        "personal_note": "Esto es lo que dicen las fuentes, no un consejo sobre su caso.",
        "lead": "Las fuentes están en {source_language}. Esto es lo que dicen:",
        "more_document": "Las fuentes tienen un documento más; nómbrelo para preguntar por él.",
        "more_documents": "Las fuentes tienen {n} documentos más; nombre uno para preguntar por él.",
        "empty": "Por favor, escriba una pregunta.",
        "too_long": "La pregunta es demasiado larga ({n} caracteres); por favor, use menos de {limit}.",
        "not_text": "No puedo leer ese texto; por favor, escriba su pregunta.",
        "rate_limited": "Ha hecho muchas preguntas en poco tiempo; por favor, espere {seconds} segundos y vuelva a "
        "preguntar.",
        "referral": "Para ayuda con su situación, comuníquese con una organización de ayuda legal o con la oficina que "
        "publicó el documento. civicbot da información general de sus fuentes, no asesoría legal.",
    },
}


LANGUAGE_NAMES = {"en": {"en": "English", "es": "Spanish"}, "es": {"en": "inglés", "es": "español"}}


def language_name(language: str, in_language: str) -> str:
    """A language's name, in a language ("inglés" for "en" in "es")."""
    return LANGUAGE_NAMES.get(in_language, LANGUAGE_NAMES["en"]).get(language, language)


def message(language: str, key: str, **values: object) -> str:
    """One of civicbot's own sentences in a language (English if the language is unknown)."""
    return MESSAGES.get(language, MESSAGES["en"])[key].format(**values)
