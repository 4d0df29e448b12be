"""`civicbot add` on real files the tests write (fpdf2 PDFs, python-docx documents, a saved news page, text): each
import keeps the body text and its headings, drops what is not the document's, and loads as a corpus document;
bad files are refused in one line with nothing written. One slow test imports, ingests and asks a question."""

import datetime as dt
import io
import json
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from PIL import Image
from rapidfuzz import fuzz
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.config import Settings
from bot.corpus import load_corpus
from bot.records import Document
from tests.conftest import run_cli

# -- a multi-page PDF report: running header, page numbers, a hyphenated line break, a list, a two-column page --------

RUNNING_HEADER = "Springfield Housing Authority - Annual Report 2025"
PURPOSE = [
    "The authority manages 4,200 public housing units across the city and administers rental assistance for about "
    "9,000 households, from studio apartments downtown to family townhouses in the east side neighborhoods.",
    "This report describes the work of the year: the repairs made, the inspections carried out, the money spent and "
    "the complaints residents filed with the authority's customer service office.",
]
# Printed as three lines, the first ending in "enforce-": the import must read "enforcement".
HYPHENATED_LINES = [
    "Inspectors visited every building at least twice during the year. Code enforce-",
    "ment staff issued 312 notices to private landlords, and most problems were fixed",
    "within thirty days of the notice being delivered.",
]
HYPHENATED = (
    "Inspectors visited every building at least twice during the year. Code enforcement staff issued 312 notices "
    "to private landlords, and most problems were fixed within thirty days of the notice being delivered."
)
REPAIRS_LEAD = "Residents can ask for a repair in three ways:"
REPAIRS = [
    "Call the repair line at any hour of the day or night.",
    "Fill in the repair form on the authority's website.",
    "Leave a written request at the management office of the building.",
]
# Long enough to run from the bottom of page 1 onto page 2, under the running header: one paragraph all the same.
REPAIR_TIMES = " ".join(
    f"In {district}, emergency repairs such as no heat, no water or a broken entry door were made within {hours} "
    f"hours on average, and other repairs within {days} working days, counted from the request."
    for district, hours, days in [
        ("the north district", 18, 9),
        ("the east district", 21, 11),
        ("the south district", 16, 8),
        ("the west district", 23, 12),
        ("the central district", 14, 7),
        ("the river district", 19, 10),
        ("the harbor district", 22, 13),
        ("the airport district", 20, 9),
        ("the university district", 17, 11),
        ("the market district", 15, 6),
        ("the hill district", 24, 14),
    ]
)
INSPECTIONS = [
    "Every unit is inspected once a year. The inspector checks smoke detectors, heating, water pressure, windows "
    "and doors, and writes down anything that needs a repair. " * 2,
    "Tenants receive a notice at least seven days before an inspection. A tenant who cannot be home may ask for "
    "another date, or may let the inspector in with a staff member present.",
]
LEFT_COLUMN = (
    "The operating budget grew by four percent this year, mostly because insurance premiums and energy prices rose "
    "across all properties. Salaries stayed level, and the authority filled only the vacancies that inspections "
    "and repairs could not do without."
)
RIGHT_COLUMN = (
    "Capital spending paid for new roofs on eleven buildings and for elevator repairs at three senior towers. The "
    "largest single project replaced the boilers at Riverside Court, which had failed twice during the winter "
    "before."
)
CONTACT = "Questions about this report can be sent to the authority's planning office by mail or in person."
PDF_HEADINGS = ["# Annual Report 2025", "## 1. Purpose", "## 2. Repairs", "## 3. Inspections", "## 4. Budget"]
PDF_BODY = [*PURPOSE, HYPHENATED, REPAIRS_LEAD, *REPAIRS, REPAIR_TIMES, *INSPECTIONS, LEFT_COLUMN, RIGHT_COLUMN]
PDF_BODY.append(CONTACT)


class Report(FPDF):
    """A report with a running header and 'Page N of M' in the footer of every page."""

    def header(self) -> None:
        self.set_font("Helvetica", "", 9)
        self.cell(0, 8, RUNNING_HEADER, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "", 9)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def _heading(pdf: FPDF, text: str, size: int = 14) -> None:
    pdf.set_font("Helvetica", "B", size)
    pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 11)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.multi_cell(0, 6, text.strip(), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def write_report_pdf(path: Path, with_metadata: bool = True) -> Path:
    """The four-page report, its second-to-last page set in two columns."""
    pdf = Report(format="Letter")
    if with_metadata:
        pdf.set_title("Annual Report 2025")
        pdf.set_author("Springfield Housing Authority")
        pdf.set_creation_date(dt.datetime(2026, 2, 10, tzinfo=dt.UTC))
    pdf.add_page()
    _heading(pdf, "Annual Report 2025", 20)
    _heading(pdf, "1. Purpose")
    for text in PURPOSE:
        _paragraph(pdf, text)
    for line in HYPHENATED_LINES:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _heading(pdf, "2. Repairs")
    _paragraph(pdf, REPAIRS_LEAD)
    for n, item in enumerate(REPAIRS, 1):
        pdf.multi_cell(0, 6, f"{n}. {item}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _paragraph(pdf, REPAIR_TIMES)
    pdf.add_page()
    _heading(pdf, "3. Inspections")
    for text in INSPECTIONS:
        _paragraph(pdf, text)
    pdf.add_page()
    _heading(pdf, "4. Budget")
    top, gap = pdf.get_y(), 10
    width = (pdf.w - pdf.l_margin - pdf.r_margin - gap) / 2
    pdf.multi_cell(width, 6, LEFT_COLUMN, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + width + gap, top)
    pdf.multi_cell(width, 6, RIGHT_COLUMN)
    pdf.add_page()
    _paragraph(pdf, CONTACT)
    pdf.output(str(path))
    return path


# -- a saved news page: navigation, a cookie banner and ads around the article ---------------------------------------

ARTICLE_TITLE = "Council approves longer library hours"
ARTICLE = [
    "The Springfield City Council voted on Tuesday to extend opening hours at every public library branch, starting "
    "in May, after a year of complaints that branches opened too late for working parents.",
    "Branches will open at 9 a.m. instead of 10 a.m. on weekdays, and the central library will stay open until 9 "
    "p.m. on Thursdays.",
    "The council said the change follows a survey in which residents asked for:",
    "Earlier opening on weekdays.",
    "A late evening at the central library.",
    "No change to Sunday hours.",
    "The extension will cost about $240,000 a year, paid from the library reserve fund, according to the budget "
    "office, which expects the fund to cover the cost for at least three years.",
]
NOISE = ["We use cookies", "Accept all cookies", "Subscribe today", "Sleepy Town", "Most read", "All rights reserved"]
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{ARTICLE_TITLE} | Springfield Gazette</title>
<meta property="og:title" content="{ARTICLE_TITLE}">
<meta property="og:site_name" content="Springfield Gazette">
<meta property="og:url" content="https://gazette.example/news/2026/04/library-hours">
<meta name="author" content="Jane Reporter">
<meta property="article:published_time" content="2026-04-02T09:00:00Z">
</head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies and similar technologies to understand how you use
  our site, to personalise the articles and advertising you see, and to measure how well our journalism reaches
  readers in Springfield and beyond. You can change your choices at any time.</p>
  <button>Accept all cookies</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
  <li><a href="/subscribe">Subscribe today</a></li></ul></nav></header>
<div class="ad advertisement">Buy one mattress, get one free at Sleepy Town</div>
<main><article>
<h1>{ARTICLE_TITLE}</h1>
<p>{ARTICLE[0]}</p>
<h2>What changes</h2>
<p>{ARTICLE[1]}</p>
<p>{ARTICLE[2]}</p>
<ul><li>{ARTICLE[3]}</li><li>{ARTICLE[4]}</li><li>{ARTICLE[5]}</li></ul>
<h2>What it costs</h2>
<p>{ARTICLE[6]}</p>
</article></main>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/a">Road closures this weekend</a></li></ul></aside>
<footer><p>&copy; 2026 Springfield Gazette. All rights reserved.</p></footer>
</body></html>
"""

# -- a Word document: a title, headings, a numbered and a bulleted list ---------------------------------------------

WORD_BODY = [
    "During a snow emergency, parking is banned on every street marked as a snow emergency route.",
    "When the city declares a snow emergency:",
    "Move your car off the marked routes within two hours.",
    "Park in a city garage for free until the emergency ends.",
    "Check the city's website for the time the emergency ends.",
    "Cars left on a route are towed to the impound lot on Water Street.",
    "Bring a photo ID.",
    "Bring proof that you own the car.",
]
WORD_HEADINGS = ["# Winter parking rules", "## Snow emergency routes", "### Towed cars"]


def write_word(path: Path) -> Path:
    """A .docx file with core properties, a Title, two heading levels and both kinds of list."""
    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.language = "Winter parking rules", "Springfield Department of Transportation", "en"
    props.created = dt.datetime(2026, 1, 15, 9, 0)
    document.add_paragraph("Winter parking rules", style="Title")
    document.add_heading("Snow emergency routes", level=1)
    document.add_paragraph(WORD_BODY[0])
    document.add_paragraph(WORD_BODY[1])
    for item in WORD_BODY[2:5]:
        document.add_paragraph(item, style="List Number")
    document.add_heading("Towed cars", level=2)
    document.add_paragraph(WORD_BODY[5])
    for item in WORD_BODY[6:]:
        document.add_paragraph(item, style="List Bullet")
    document.save(str(path))
    return path


# -- helpers ------------------------------------------------------------------------------------------------------


def normalised(text: str) -> str:
    return " ".join(text.lower().split())


def similarity(got: list[str], want: list[str]) -> float:
    """How close the imported body is to the text put in (rapidfuzz ratio, 0-1)."""
    return fuzz.ratio(normalised(" ".join(got)), normalised(" ".join(want))) / 100


def add(corpus: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """`civicbot add` in this process, on a corpus folder of the test's own."""
    return CliRunner().invoke(app, ["add", *args], env={"CIVICBOT_CORPUS_DIR": str(corpus), **(env or {})})


def imported(corpus: Path, slug: str) -> tuple[Document, str]:
    """The document as load_corpus reads it, and its Markdown text."""
    (doc,) = [d for d in load_corpus(corpus) if d.slug == slug]
    return doc, (corpus / f"{slug}.md").read_text(encoding="utf-8")


def refused(done: Result, corpus: Path, *words: str) -> str:
    """Asserts a one-line refusal naming what it should, and a corpus folder left as it was (empty)."""
    lines = done.stderr.strip().splitlines()
    assert done.exit_code == 1, done.output
    assert len(lines) == 1 and lines[0].startswith("civicbot: "), lines
    for word in words:
        assert word in lines[0], lines[0]
    assert done.stdout == "" and list(corpus.iterdir()) == []
    return lines[0]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus"
    path.mkdir()
    return path


# -- each format --------------------------------------------------------------------------------------------------


def test_a_pdf_report_keeps_its_text_and_headings_and_loses_headers_and_page_numbers(
    tmp_path: Path, corpus: Path
) -> None:
    pdf = write_report_pdf(tmp_path / "annual-report-2025.pdf")
    done = add(corpus, str(pdf), "--source", "https://housing.example/annual-report-2025.pdf")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(corpus / "annual-report-2025.md")
    doc, text = imported(corpus, "annual-report-2025")
    assert (doc.title, doc.publisher, doc.date, doc.language) == (
        "Annual Report 2025",
        "Springfield Housing Authority",
        "2026-02-10",
        "en",
    )
    assert similarity(list(doc.paragraphs), PDF_BODY) >= 0.97
    for heading in PDF_HEADINGS:
        assert f"\n{heading}\n" in text
    assert HYPHENATED in doc.paragraphs and "enforce-" not in text
    assert "Springfield Housing Authority - Annual Report" not in text and "Page " not in text
    assert LEFT_COLUMN in doc.paragraphs and RIGHT_COLUMN in doc.paragraphs  # column by column, not line by line
    assert REPAIR_TIMES in doc.paragraphs  # joined again over the page break
    assert "1. Call the repair line" in text and "3. Leave a written request" in text
    assert doc.contexts[doc.paragraphs.index(REPAIRS[0])] == f"2. Repairs — {REPAIRS_LEAD}"


def test_a_saved_news_page_keeps_the_article_and_drops_navigation_ads_and_the_cookie_banner(
    tmp_path: Path, corpus: Path
) -> None:
    page = tmp_path / "library-hours.html"
    page.write_text(PAGE, encoding="utf-8")
    done = add(corpus, str(page))
    assert done.exit_code == 0, done.output
    doc, text = imported(corpus, "library-hours")
    assert (doc.title, doc.publisher, doc.date, doc.source) == (
        ARTICLE_TITLE,
        "Springfield Gazette",
        "2026-04-02",
        "https://gazette.example/news/2026/04/library-hours",
    )
    assert similarity(list(doc.paragraphs), ARTICLE) >= 0.97
    assert "\n## What changes\n" in text and "\n## What it costs\n" in text
    assert "\n- Earlier opening on weekdays.\n- A late evening" in text
    for noise in NOISE:
        assert noise not in text


def test_a_word_document_keeps_its_headings_and_numbered_list(tmp_path: Path, corpus: Path) -> None:
    word = write_word(tmp_path / "winter-parking.docx")
    done = add(corpus, str(word), "--source", "https://city.example/winter-parking")
    assert done.exit_code == 0, done.output
    doc, text = imported(corpus, "winter-parking")
    assert (doc.title, doc.publisher, doc.date) == (
        "Winter parking rules",
        "Springfield Department of Transportation",
        "2026-01-15",
    )
    assert similarity(list(doc.paragraphs), WORD_BODY) >= 0.97
    for heading in WORD_HEADINGS:
        assert f"\n{heading}\n" in text
    assert "\n1. Move your car" in text and "\n2. Park in a city garage" in text and "\n- Bring a photo ID." in text


def test_a_text_file_joins_wrapped_lines_and_keeps_headings_and_lists(tmp_path: Path, corpus: Path) -> None:
    notice = tmp_path / "pool-notice.txt"
    notice.write_text(
        "POOL OPENING\n\nThe Eastside pool opens on June 1 and stays open until Labor\nDay. Life-\n"
        "guards are on duty every day.\n\nBring:\n- a towel\n- a padlock for the\n  lockers\n",
        encoding="utf-8",
    )
    done = add(corpus, str(notice), "--source", "posted at the pool", "--publisher", "Parks", "--date", "2026-05-20")
    assert done.exit_code == 0, done.output
    doc, text = imported(corpus, "pool-notice")
    assert doc.title == "POOL OPENING" and "\n## POOL OPENING\n" in text
    assert doc.paragraphs == (
        "The Eastside pool opens on June 1 and stays open until Labor Day. Lifeguards are on duty every day.",
        "Bring:",
        "a towel",
        "a padlock for the lockers",
    )


def test_a_folder_imports_every_supported_file_and_options_win_over_metadata(tmp_path: Path, corpus: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_report_pdf(folder / "report.pdf")
    write_word(folder / "parking.docx")
    (folder / "notes.md").write_text("not imported: not a supported kind", encoding="utf-8")
    done = add(corpus, str(folder), "--source", "https://city.example/docs", "--publisher", "City of Springfield")
    assert done.exit_code == 0, done.output
    assert done.stdout.split() == [str(corpus / "parking.md"), str(corpus / "report.md")]
    assert {d.publisher for d in load_corpus(corpus)} == {"City of Springfield"}


def test_markdown_marks_in_the_text_read_back_as_written(tmp_path: Path, corpus: Path) -> None:
    notice = tmp_path / "fees.txt"
    body = ["2026. The year fees changed: *all* fines [see below] are <b>waived</b> for snake_case &amp; users."]
    notice.write_text(body[0] + "\n", encoding="utf-8")
    done = add(corpus, str(notice), "--title", "Fees", "--source", "s", "--publisher", "P", "--date", "2026-01-01")
    assert done.exit_code == 0, done.output
    doc, _ = imported(corpus, "fees")
    assert list(doc.paragraphs) == body


# -- bad input: one line, non-zero, nothing written ---------------------------------------------------------------


def test_a_scanned_pdf_is_refused_with_a_clear_reason(tmp_path: Path, corpus: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    scan = Image.new("RGB", (600, 800), "white")
    buffer = io.BytesIO()
    scan.save(buffer, format="PNG")
    pdf.image(buffer, x=10, y=10, w=190)
    pdf.output(str(tmp_path / "scan.pdf"))
    refused(add(corpus, str(tmp_path / "scan.pdf"), "--source", "s"), corpus, "scan.pdf", "no text layer", "OCR")


def test_a_file_whose_extension_lies_is_refused(tmp_path: Path, corpus: Path) -> None:
    fake = tmp_path / "notice.pdf"
    fake.write_text(PAGE, encoding="utf-8")
    line = refused(add(corpus, str(fake)), corpus, "notice.pdf", "a PDF", "web page")
    assert "rename it to notice.html" in line
    word = tmp_path / "minutes.docx"
    word.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    refused(add(corpus, str(word)), corpus, "minutes.docx", "an image")


def test_a_damaged_pdf_is_refused(tmp_path: Path, corpus: Path) -> None:
    damaged = tmp_path / "minutes.pdf"
    damaged.write_bytes(write_report_pdf(tmp_path / "whole.pdf").read_bytes()[:700])
    refused(add(corpus, str(damaged), "--source", "s"), corpus, "minutes.pdf", "not a readable PDF", "export it again")


def test_an_encrypted_pdf_is_refused(tmp_path: Path, corpus: Path) -> None:
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, "Confidential budget notes.")
    pdf.output(str(tmp_path / "locked.pdf"))
    refused(add(corpus, str(tmp_path / "locked.pdf")), corpus, "locked.pdf", "encrypted", "without the password")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path, corpus: Path) -> None:
    pdf = write_report_pdf(tmp_path / "big.pdf")
    done = add(corpus, str(pdf), "--source", "s", env={"CIVICBOT_MAX_IMPORT_MB": "0.001"})
    refused(done, corpus, "big.pdf", "over the import limit of 0.001 MB", "CIVICBOT_MAX_IMPORT_MB")


def test_an_empty_page_is_refused(tmp_path: Path, corpus: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.output(str(tmp_path / "blank.pdf"))
    refused(add(corpus, str(tmp_path / "blank.pdf"), "--source", "s"), corpus, "blank.pdf", "empty")
    page = tmp_path / "shell.html"
    page.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    refused(add(corpus, str(page)), corpus, "shell.html", "no article text")


def test_a_missing_header_field_names_the_option_to_pass(tmp_path: Path, corpus: Path) -> None:
    pdf = write_report_pdf(tmp_path / "report.pdf", with_metadata=False)
    line = refused(add(corpus, str(pdf), "--source", "s", "--date", "2026-02-10"), corpus)
    assert line == f"civicbot: {pdf}: no publisher in the file's metadata; pass --publisher"


def test_one_bad_file_in_a_folder_means_nothing_is_written(tmp_path: Path, corpus: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_word(folder / "parking.docx")
    (folder / "empty.txt").write_text("  \n", encoding="utf-8")
    refused(add(corpus, str(folder), "--source", "s"), corpus, "empty.txt", "empty")


def test_an_existing_document_is_replaced_only_with_force(tmp_path: Path, corpus: Path) -> None:
    word = write_word(tmp_path / "winter-parking.docx")
    assert add(corpus, str(word), "--source", "s").exit_code == 0
    before = (corpus / "winter-parking.md").read_text(encoding="utf-8")
    done = add(corpus, str(word), "--source", "s", "--title", "New title")
    assert done.exit_code == 1 and "already has a document 'winter-parking'" in done.stderr and "--force" in done.stderr
    assert (corpus / "winter-parking.md").read_text(encoding="utf-8") == before
    done = add(corpus, str(word), "--source", "s", "--title", "New title", "--force")
    assert done.exit_code == 0, done.output
    assert load_corpus(corpus)[0].title == "New title"
    assert [p.name for p in corpus.iterdir()] == ["winter-parking.md"]  # no temporary file left behind


def test_one_title_for_several_files_is_refused(tmp_path: Path, corpus: Path) -> None:
    write_word(tmp_path / "a.docx")
    write_word(tmp_path / "b.docx")
    done = add(corpus, str(tmp_path / "a.docx"), str(tmp_path / "b.docx"), "--title", "T", "--source", "s")
    refused(done, corpus, "--title", "2 files")


def test_bad_options_are_usage_errors(tmp_path: Path, corpus: Path) -> None:
    word = write_word(tmp_path / "w.docx")
    assert add(corpus, str(word), "--date", "March 5").exit_code == 2
    assert add(corpus, str(word), "--language", "fr").exit_code == 2
    assert list(corpus.iterdir()) == []


# -- end to end ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_imported_pdf_is_ingested_and_cited_in_an_answer(tmp_path: Path, corpus: Path) -> None:
    from bot.service import ingest

    pdf = write_report_pdf(tmp_path / "annual-report-2025.pdf")
    data = tmp_path / "data"
    env = {"CIVICBOT_DATA_DIR": str(data), "CIVICBOT_CORPUS_DIR": str(corpus)}
    done = run_cli("add", str(pdf), "--source", "https://housing.example/report.pdf", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == str(corpus / "annual-report-2025.md")
    check = run_cli("corpus", "check", env=env)
    passages = len(PDF_BODY) + 1  # and the publication details
    assert check.returncode == 0, check.stderr
    assert f"annual-report-2025 (Annual Report 2025): {passages} added" in check.stdout.decode()

    report = ingest(Settings(data_dir=data, corpus_dir=corpus))
    assert report.added == passages
    done = run_cli("ask", "--json", "How many notices did code enforcement staff issue?", env=env)
    answer = json.loads(done.stdout)
    assert answer["abstained"] is False and "312" in answer["answer"]
    assert any(c["passage_id"].startswith("annual-report-2025#p") for c in answer["citations"])

    # The ingest command says what it changed per document before its total.
    text = (corpus / "annual-report-2025.md").read_text(encoding="utf-8")
    (corpus / "annual-report-2025.md").write_text(text.replace("312 notices", "313 notices"), encoding="utf-8")
    done = CliRunner().invoke(app, ["ingest"], env=env)
    lines = done.stderr.strip().splitlines()
    assert done.exit_code == 0 and f"annual-report-2025: 1 changed, {passages - 1} unchanged" in lines
    assert lines[-1].startswith(f"index: {passages} passages (0 added, 1 updated")


@pytest.mark.slow
def test_a_page_and_a_word_file_imported_together_each_answer_with_a_citation(tmp_path: Path, corpus: Path) -> None:
    from bot.service import ingest

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "library-hours.html").write_text(PAGE, encoding="utf-8")
    write_word(inbox / "winter-parking.docx")
    env = {"CIVICBOT_DATA_DIR": str(tmp_path / "data"), "CIVICBOT_CORPUS_DIR": str(corpus)}
    done = run_cli("add", str(inbox), "--source", "https://city.example/inbox", env=env)
    assert done.returncode == 0, done.stderr
    ingest(Settings(data_dir=tmp_path / "data", corpus_dir=corpus))
    for question, fact, slug in (
        ("How much will the longer library hours cost each year?", "$240,000", "library-hours"),
        ("Where are towed cars taken during a snow emergency?", "Water Street", "winter-parking"),
    ):
        answer = json.loads(run_cli("ask", "--json", question, env=env).stdout)
        assert answer["abstained"] is False and fact in answer["answer"], answer["answer"]
        assert answer["citations"] and all(c["passage_id"].startswith(f"{slug}#p") for c in answer["citations"])
