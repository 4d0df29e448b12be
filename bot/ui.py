"""The Gradio web chat: build_app(answerer, settings) → Blocks; nothing is launched at import."""

import html
import logging
from typing import Any

import gradio as gr

from bot.answer import Answerer
from bot.config import Settings
from bot.errors import BadQuestion
from bot.feedback import record_vote
from bot.language import message as say
from bot.render import render_answer

logger = logging.getLogger(__name__)

UI_TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "header": """# civicbot
Questions about **{covers}**, answered only from the listed sources. Every sentence has a numbered source you can
open and read.

civicbot does **not** give legal advice or answer questions about individual cases. {referral}
""",
        "chat": "civicbot answers",
        "question": "Your question",
        "placeholder": "Ask a question, e.g. {example}",
        "ask": "Ask",
        "examples": "Try a question",
    },
    "es": {
        "header": """# civicbot
Preguntas sobre **{covers}**, respondidas solo con las fuentes indicadas. Cada frase tiene una fuente numerada que
puede abrir y leer.

civicbot **no** da asesoría legal ni responde preguntas sobre casos individuales. {referral}
""",
        "chat": "Respuestas de civicbot",
        "question": "Su pregunta",
        "placeholder": "Haga una pregunta, p. ej. {example}",
        "ask": "Preguntar",
        "examples": "Pruebe una pregunta",
    },
}
LANGUAGES = [("English", "en"), ("Español", "es")]
# The page's lang attribute follows the switch, so screen readers pick the right voice.
SET_LANG_JS = "(lang) => { document.documentElement.setAttribute('lang', lang); return lang; }"

CSS = """
.abstention { border-left: 4px solid #b45309; padding-left: .6em; }
.answer p, .abstention p { margin: .2em 0 .5em; }
details.source { margin: .3em 0; }
details.source summary { cursor: pointer; }
blockquote.passage { margin: .3em 0 .3em .5em; padding-left: .6em; border-left: 3px solid #888; }
mark { background: #fde68a; color: inherit; }
"""

# Gradio's page has no language of its own; screen readers need it to pick a voice.
HEAD = "<script>document.documentElement.setAttribute('lang', 'en');</script>"


def page_texts(answerer: Answerer, lang: str) -> dict[str, Any]:
    """The page's words in a language, with what the corpus covers and its example questions from its profile."""
    profile = answerer.profile
    t = dict(UI_TEXT.get(lang, UI_TEXT["en"]))
    covers = profile.covers.get(lang) or profile.covers.get("en") or "the listed documents"
    examples = profile.examples.get(lang) or profile.examples.get("en") or []
    t["header"] = t["header"].format(covers=covers.strip().rstrip("."), referral=answerer.referrals.for_language(lang))
    t["placeholder"] = t["placeholder"].format(example=examples[0]) if examples else t["question"]
    t["examples_list"] = examples
    return t


def message_for(lang: str, exc: BadQuestion) -> str:
    """A refusal in the page's language where civicbot has one for that reason."""
    return say(lang, exc.key) if exc.key else str(exc)


def build_app(answerer: Answerer, settings: Settings) -> gr.Blocks:
    """The chat page plus the `ask` API endpoint, over one shared answerer."""

    def respond(
        message: str,
        chat: list[dict[str, Any]],
        answers: dict[int, dict[str, Any]],
        questions: list[str],
        lang: str,
    ) -> tuple[str, list[dict[str, Any]], dict[int, dict[str, Any]], list[str], str]:
        try:
            answer = answerer.ask(message, history=questions[-1:])
        except BadQuestion as exc:
            raise gr.Error(message_for(lang, exc)) from None
        chat = [
            *chat,
            {"role": "user", "content": html.escape(answer.question)},
            {"role": "assistant", "content": render_answer(answer)},
        ]
        answers = {**answers, len(chat) - 1: answer.to_dict()}
        # A question written in Spanish switches the page to Spanish; going back is the resident's choice.
        lang = "es" if answer.language == "es" else lang
        return "", chat, answers, [*questions, answer.question], lang

    def switch_language(lang: str) -> tuple[Any, ...]:
        t = page_texts(answerer, lang)
        return (
            gr.Markdown(t["header"]),
            gr.Chatbot(label=t["chat"]),
            gr.Textbox(label=t["question"], placeholder=t["placeholder"]),
            gr.Button(t["ask"]),
            gr.Dataset(samples=[[q] for q in t["examples_list"]], label=t["examples"]),
        )

    def on_like(answers: dict[int, dict[str, Any]], data: gr.LikeData) -> None:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        answer = answers.get(int(index)) or answers.get(str(index))  # type: ignore[call-overload]
        if answer is None or not settings.feedback_enabled:
            return
        record_vote(settings.feedback_path, answer, data.liked is True or data.liked == "Like")

    def ask_api(question: str) -> dict[str, Any]:
        """Answer one question; returns the JSON answer object."""
        try:
            return answerer.ask(question).to_dict()
        except BadQuestion as exc:
            return answerer.refusal(question if isinstance(question, str) else "", str(exc)).to_dict()

    t = page_texts(answerer, "en")
    with gr.Blocks(title="civicbot") as app:
        lang = gr.Radio(LANGUAGES, value="en", label="Language / Idioma")
        header = gr.Markdown(t["header"])
        chatbot = gr.Chatbot(
            label=t["chat"],
            height="65vh",
            sanitize_html=True,
            feedback_options=("Like", "Dislike"),
            buttons=["copy"],
        )
        answers = gr.State({})
        questions = gr.State([])
        with gr.Row():
            box = gr.Textbox(
                label=t["question"],
                placeholder=t["placeholder"],
                max_length=settings.max_question_chars,
                scale=5,
                autofocus=True,
            )
            send = gr.Button(t["ask"], variant="primary", scale=1, min_width=110)
        examples = gr.Examples(t["examples_list"] or [[""]], inputs=box, label=t["examples"])
        for trigger in (box.submit, send.click):
            trigger(
                respond,
                [box, chatbot, answers, questions, lang],
                [box, chatbot, answers, questions, lang],
                api_visibility="private",
            )
        lang.change(
            switch_language,
            [lang],
            [header, chatbot, box, send, examples.dataset],
            js=SET_LANG_JS,
            api_visibility="private",
        )
        chatbot.like(on_like, [answers], None, api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def launch(
    answerer: Answerer, settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True
) -> Any:
    """Serve the chat; prints the local URL once ready."""
    app = build_app(answerer, settings)
    app.queue(default_concurrency_limit=4, max_size=256)
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        show_error=False,
        css=CSS,
        head=HEAD,
        footer_links=["api"],
        quiet=False,
    )
    return app
