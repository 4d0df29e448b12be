"""The Gradio web chat: build_app(answerer, settings) → Blocks; nothing is launched at import."""

import html
import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI

from bot.answer import Answerer
from bot.config import Settings
from bot.errors import BadQuestion
from bot.feedback import record_vote
from bot.language import detect_language
from bot.language import message as say
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.records import Answer
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
/* Dark mode's light text on the yellow highlight is unreadable; the highlight keeps its own dark text. */
mark { background: #fde68a; color: #1f2937; }
/* WCAG AA asks 4.5:1 for text. Gradio's default theme puts white on orange-500/600 buttons (2.8:1, 3.6:1) and grey
   #bbbbc2 footer, info and placeholder text on white (1.9:1); these are the nearest shades of its palette that pass. */
:root {
  --body-text-color-subdued: var(--neutral-500);
  --input-placeholder-color: var(--neutral-500);
}
:root.dark, :root .dark { --input-placeholder-color: var(--neutral-400); }
:root, :root.dark, :root .dark {
  --button-primary-background-fill: var(--primary-700);
  --button-primary-background-fill-hover: var(--primary-800);
  --button-primary-border-color: var(--primary-700);
  --button-primary-border-color-hover: var(--primary-800);
  --civicbot-focus: #1d4ed8;
}
:root.dark, :root .dark { --civicbot-focus: #93c5fd; }
/* Gradio's focus styles are a near-white ring on the question box and none on the language switch; a keyboard user
   has to see where they are (WCAG 2.4.7), and component styles outrank a plain :focus-visible rule. */
:focus-visible { outline: 3px solid var(--civicbot-focus) !important; outline-offset: 2px !important; }
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


def build_app(
    answerer: Answerer, settings: Settings, limiter: RateLimiter | None = None, metrics: Metrics | None = None
) -> gr.Blocks:
    """The chat page plus the `ask` API endpoint, over one shared answerer (rate-limited and counted when a limiter
    and metrics are given)."""

    def over_limit(request: gr.Request | None, channel: str) -> int | None:
        """Seconds an asker over the rate limit must wait; None when they may ask."""
        if limiter is None or not limiter.enabled or request is None:
            return None
        peer = request.client.host if request.client else None
        verdict = limiter.hit(limiter.client(peer, request.headers))
        if verdict.allowed:
            return None
        if metrics is not None:
            metrics.limited(channel)
        return verdict.retry_after_s

    def count(answer: Answer, channel: str) -> None:
        if metrics is not None:
            metrics.observe(answer, channel)

    def respond(
        message: str,
        chat: list[dict[str, Any]],
        answers: dict[int, dict[str, Any]],
        questions: list[str],
        lang: str,
        request: gr.Request,
    ) -> tuple[str, list[dict[str, Any]], dict[int, dict[str, Any]], list[str], str]:
        wait = over_limit(request, "chat")
        if wait is not None:
            # A bubble rather than an error: the chat stays readable and the question stays typed, to send again.
            asked = {"role": "user", "content": html.escape(message)}
            text = html.escape(say(lang, "rate_limited", seconds=wait))
            notice = {"role": "assistant", "content": f'<div class="notice"><p>{text}</p></div>'}
            return message, [*chat, asked, notice], answers, questions, lang
        try:
            answer = answerer.ask(message, history=questions[-1:])
        except BadQuestion as exc:
            count(answerer.refusal(message if isinstance(message, str) else "", str(exc)), "chat")
            raise gr.Error(message_for(lang, exc)) from None
        count(answer, "chat")
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

    def ask_api(question: str, request: gr.Request) -> dict[str, Any]:
        """Answer one question; returns the JSON answer object."""
        text = question if isinstance(question, str) else ""
        wait = over_limit(request, "gradio")
        if wait is not None:
            raise gr.Error(say(detect_language(text) if text.strip() else "en", "rate_limited", seconds=wait))
        try:
            answer = answerer.ask(question)
        except BadQuestion as exc:
            answer = answerer.refusal(text, str(exc))
        count(answer, "gradio")
        return answer.to_dict()

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


def mount(app: FastAPI, blocks: gr.Blocks, path: str = "/") -> FastAPI:
    """Serve the chat page from a FastAPI app, with the page's stylesheet and head."""
    blocks.queue(default_concurrency_limit=4, max_size=256)
    return gr.mount_gradio_app(app, blocks, path=path, css=CSS, head=HEAD, footer_links=["api"], show_error=False)
