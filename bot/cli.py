"""The `civicbot` command: ingest, ask, serve, add, corpus check, and commands added by plugins (eval). Errors
become one line."""

import json
import logging
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.config import Settings
from bot.errors import BadQuestion, CivicbotError
from bot.records import Answer

if TYPE_CHECKING:
    from bot.answer import Answerer
    from bot.importers import Options

app = typer.Typer(
    help="civicbot: answers residents' questions from a corpus of civic documents, with cited sources.",
    add_completion=False,
)
err = Console(stderr=True)


def fail(reason: str, code: int = 1) -> typer.Exit:
    """Print a one-line reason on stderr and leave with a non-zero status."""
    err.print(f"civicbot: {reason}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


class IngestProgress:
    """A rich progress bar for embedding passages."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task = bar.add_task("embedding passages", total=0)

    def start(self, total: int) -> None:
        # One bar for every collection the corpus is embedded into: each sync adds its share.
        self.bar.update(self.task, total=(self.bar.tasks[self.task].total or 0) + total)

    def advance(self, done: int) -> None:
        self.bar.advance(self.task, done)


@app.command()
def ingest(
    corpus: Annotated[Path | None, typer.Option(help="corpus folder (default: CIVICBOT_CORPUS_DIR or corpus/)")] = None,
    rebuild: Annotated[bool, typer.Option(help="drop the index and embed everything again")] = False,
) -> None:
    """Build or update the index from the corpus (idempotent; removes passages of deleted documents)."""
    from bot.service import ingest as run_ingest
    from bot.service import recover_store

    settings = _settings(corpus_dir=corpus) if corpus else _settings()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        if rebuild:
            recover_store(settings, notify=lambda m: err.print(m, markup=False))
        changes = _planned_changes(settings)
        with Progress(*columns, console=err, transient=False) as bar:
            report = run_ingest(settings, rebuild=rebuild, progress=IngestProgress(bar))
    except CivicbotError as exc:
        raise fail(str(exc)) from None
    for line in changes:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    err.print(
        f"index: {report.total} passages ({report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged{', rebuilt' if report.rebuilt else ''})"
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question, or - to read one question per line from stdin")],
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON answer object")] = False,
) -> None:
    """Answer a question from the sources, with numbered citations."""
    from bot.answer import check_question

    settings = _settings()
    if question != "-":
        try:
            check_question(question, settings.max_question_chars)
        except BadQuestion as exc:
            raise fail(str(exc), 2) from None
    answerer = _answerer(settings)
    if question != "-":
        _print(answerer.ask(question), as_json)
        return
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\r\n")
        try:
            answer = answerer.ask(line)
        except BadQuestion as exc:
            text = line.decode("utf-8", errors="replace")
            answer = answerer.refusal(text, str(exc))
        _print(answer, as_json)
        sys.stdout.flush()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 7860,
) -> None:
    """Run the web chat, the JSON API (/api/v1) and /metrics on one port (builds the index first if it is missing)."""
    from bot.server import serve as run_server

    settings = _settings()
    # A server's log shows each answer's kind and latency (never the question unless CIVICBOT_LOG_QUESTIONS).
    logging.getLogger("bot").setLevel(logging.INFO)
    answerer = _answerer(settings, repair=True)
    try:
        run_server(answerer, settings, host=host, port=port)
    except OSError as exc:
        raise fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def _planned_changes(settings: Settings) -> list[str]:
    """Per document, how many passages the ingest about to run adds, changes and removes."""
    from bot.corpus import load_corpus
    from bot.passages import split_corpus
    from bot.review import diff_passages, live_index, summary

    planned = split_corpus(load_corpus(settings.corpus_dir))
    return summary(diff_passages(live_index(settings).passages, planned))


@app.command()
def add(
    paths: Annotated[list[Path], typer.Argument(help="files or folders to import: .pdf, .html, .htm, .docx, .txt")],
    title: Annotated[str | None, typer.Option(help="the document's title (default: from the file)")] = None,
    publisher: Annotated[str | None, typer.Option(help="who published it (default: from the file)")] = None,
    date: Annotated[str | None, typer.Option(help="publication date, YYYY-MM-DD (default: from the file)")] = None,
    source: Annotated[str | None, typer.Option(help="its URL, or where to find it (default: from the file)")] = None,
    language: Annotated[str | None, typer.Option(help="en or es (default: from the file, else detected)")] = None,
    force: Annotated[bool, typer.Option(help="replace a document of the same name in the corpus")] = False,
) -> None:
    """Import PDF, saved web pages, Word (.docx) or text files into the corpus folder as Markdown documents."""
    from bot.importers import plan, write

    # The parsers warn about every quirk of a file they still read; a refusal is said in civicbot's one line.
    for library in ("pypdf", "pdfminer", "pdfplumber", "trafilatura", "htmldate", "courlan", "docx"):
        logging.getLogger(library).setLevel(logging.ERROR)
    settings = _settings()
    options = _import_options(title, publisher, date, source, language)
    imports, problems = plan(paths, options, settings.corpus_dir, settings.max_import_mb, force)
    for problem in problems:
        err.print(f"civicbot: {problem}", markup=False, highlight=False, soft_wrap=True)
    if problems:  # all or nothing: a batch with a bad file writes none, so running it again once fixed is safe
        raise typer.Exit(1)
    try:
        written = write(imports, settings.corpus_dir)
    except CivicbotError as exc:
        raise fail(str(exc)) from None
    for path in written:
        typer.echo(str(path))


def _import_options(
    title: str | None, publisher: str | None, date: str | None, source: str | None, language: str | None
) -> "Options":
    import datetime as dt

    from bot.corpus import LANGUAGES
    from bot.importers import Options

    try:
        day = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise fail(f"--date {date!r} is not a date like 2026-03-05", 2) from None
    if language is not None and language not in LANGUAGES:
        raise fail(f"--language must be one of {', '.join(sorted(LANGUAGES))}", 2)
    return Options(title=title, publisher=publisher, date=day, source=source, language=language)


corpus_app = typer.Typer(help="Check the corpus folder before it goes live.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("check")
def corpus_check(
    corpus: Annotated[Path | None, typer.Option(help="corpus folder (default: CIVICBOT_CORPUS_DIR or corpus/)")] = None,
    limit: Annotated[int, typer.Option(min=0, help="passages shown per document (0: all)")] = 10,
) -> None:
    """Validate every document and profile.yaml; show what the next ingest would add, change and remove."""
    from bot.review import check_corpus, describe, review

    settings = _settings(corpus_dir=corpus) if corpus else _settings()
    if not settings.corpus_dir.is_dir():
        raise fail(f"{settings.corpus_dir}: corpus folder not found")
    check = check_corpus(settings.corpus_dir)
    for problem in check.problems:
        err.print(f"civicbot: {problem}", markup=False, highlight=False, soft_wrap=True)
    try:
        changes, rebuild = review(settings, check)
    except CivicbotError as exc:
        raise fail(str(exc)) from None
    count, bad = len(check.documents), len(check.problems)
    invalid = f", {bad} invalid file{'' if bad == 1 else 's'}" if bad else ""
    lines = [f"{settings.corpus_dir}: {count} valid document{'' if count == 1 else 's'}{invalid}"]
    if rebuild:
        lines.append("the index was built with another embedding model: the next ingest embeds every passage again")
    typer.echo("\n".join(lines + describe(changes, limit)))
    if check.problems:
        raise typer.Exit(1)


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except Exception as exc:
        raise fail(f"invalid settings: {' '.join(str(exc).split())[:300]}", 2) from None


def _answerer(settings: Settings, repair: bool = False) -> "Answerer":
    from bot.service import build_answerer

    try:
        return build_answerer(settings, notify=lambda m: err.print(m, markup=False), repair=repair)
    except CivicbotError as exc:
        raise fail(str(exc)) from None


def _print(answer: Answer, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
        return
    lines = [answer.text]
    if answer.citations:
        lines.append("\nSources:")
        for c in answer.citations:
            p = c.passage
            lines += [
                f"[{c.n}] {p.document} — {p.publisher}, {p.date}, "
                + (f"paragraph {p.n}" if p.n else "publication details"),
                f"    {p.text}",
                f"    {p.source}",
            ]
    typer.echo("\n".join(lines) + "\n")


def _register_plugins() -> None:
    """Commands other packages add to civicbot (the eval suite) through the `civicbot.commands` entry points."""
    for ep in entry_points(group="civicbot.commands"):
        try:
            app.command(name=ep.name)(ep.load())
        except ImportError as exc:  # a plugin that is not installed must not break the core commands
            logging.getLogger(__name__).debug("plugin %s not loaded: %s", ep.name, exc)


def main() -> None:
    """Entry point of the `civicbot` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _register_plugins()
    try:
        app()
    except CivicbotError as exc:
        err.print(f"civicbot: {exc}", markup=False)
        sys.exit(1)
