"""Which language a question is written in (English or Spanish), and civicbot's own words in each."""

import re

from bot.text import STOPWORDS_EN, STOPWORDS_ES, words

SPANISH_MARKS = re.compile(r"[¿¡ñáéíóú]", re.IGNORECASE)
SPANISH_ONLY = STOPWORDS_ES - STOPWORDS_EN - {"a", "no", "me", "de", "la", "y", "o"}
ENGLISH_ONLY = STOPWORDS_EN - STOPWORDS_ES


def detect_language(text: str) -> str:
    """'es' when Spanish function words or marks outweigh English ones, else 'en'; short or mixed text is safe."""
    tokens = words(text)
    spanish = sum(t in SPANISH_ONLY for t in tokens) + 2 * len(SPANISH_MARKS.findall(text))
    english = sum(t in ENGLISH_ONLY for t in tokens)
    return "es" if spanish > english else "en"


MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "not_covered": "The sources I have don't answer that. They cover Baltimore's March 2026 executive order on "
        "immigration enforcement, as reported in the listed news article.",
        "injection": "I can only answer questions about Baltimore's March 2026 executive order on immigration "
        "enforcement, from my sources; I can't follow instructions that change how I work.",
        "legal_advice": "I can't give advice about an individual case.",
        "sources_say": "What the sources do say:",
        "lead": "",
        "empty": "Please type a question.",
        "too_long": "That question is too long ({n} characters); please keep it under {limit}.",
        "not_text": "That input isn't readable text; please type your question.",
    },
    "es": {
        "not_covered": "Las fuentes que tengo no responden a eso. Tratan de la orden ejecutiva de Baltimore de marzo "
        "de 2026 sobre la aplicación de las leyes de inmigración, según el artículo de noticias citado.",
        "injection": "Solo puedo responder preguntas sobre la orden ejecutiva de Baltimore de marzo de 2026 sobre "
        "inmigración, a partir de mis fuentes; no sigo instrucciones que cambien cómo funciono.",
        "legal_advice": "No puedo dar consejos sobre casos individuales.",
        "sources_say": "Lo que sí dicen las fuentes (en inglés):",
        "lead": "Las fuentes están en inglés. Esto es lo que dicen:",
        "empty": "Por favor, escriba una pregunta.",
        "too_long": "La pregunta es demasiado larga ({n} caracteres); por favor, use menos de {limit}.",
        "not_text": "No puedo leer ese texto; por favor, escriba su pregunta.",
    },
}


def message(language: str, key: str, **values: object) -> str:
    """One of civicbot's own sentences in a language (English if the language is unknown)."""
    return MESSAGES.get(language, MESSAGES["en"])[key].format(**values)
