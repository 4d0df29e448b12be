"""Import speed: a generated 50-page PDF report (running header, page numbers, headings, lists, a two-column page in
every ten) through `civicbot add`, then the ingest of that one document into a temp data dir (models loaded first,
so the ingest figure is embedding and storing, not start-up).

Run: python benchmarks/import_pdf.py [--pages 50] [--out benchmarks/results/import_pdf.json] (needs the test extra,
for fpdf2). Prints the figures and writes them."""

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from fpdf import FPDF

from bot.config import PROJECT_ROOT, Settings
from bot.embeddings import get_embeddings, get_multilingual_embeddings
from bot.importers import Options, plan, write
from bot.service import ingest

TOPICS = ["repairs", "inspections", "rent", "waiting lists", "safety", "energy", "staffing", "complaints"]


class Report(FPDF):
    """A long report with a running header and a page number on every page."""

    def header(self) -> None:
        self.set_font("Helvetica", "", 9)
        self.cell(0, 8, "Springfield Housing Authority - Five-Year Plan", align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "", 9)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def paragraph(page: int, n: int) -> str:
    """A distinct paragraph of about 600 characters, so no two passages are the same."""
    topic = TOPICS[(page + n) % len(TOPICS)]
    return (
        f"Section {page}.{n} reviews {topic} in district {page % 9 + 1}. In the year under review the authority "
        f"recorded {100 + 7 * page + n} requests about {topic}, closed {90 + 5 * page + n} of them within the target "
        f"time, and carried {10 + page % 7} over into the next year. Residents who disagree with how a request about "
        f"{topic} was handled may ask for a review by the district manager within {14 + n} days, and the manager must "
        f"answer in writing. The figures for {topic} are compared with the previous plan in the appendix."
    )


def step(page: int, n: int) -> str:
    """One step of a page's procedure; the steps differ from page to page, as a real report's lists do."""
    action = ["Write down", "Report", "Photograph", "Send the office", "Keep a copy of"][(page + n) % 5]
    topic = TOPICS[(page * 3 + n) % len(TOPICS)]
    return f"{action} what happened with the {topic} request, and the date it was made."


def write_pdf(path: Path, pages: int) -> None:
    """A report of `pages` pages: each with a heading, three paragraphs and a short numbered list."""
    pdf = Report(format="Letter")
    pdf.set_title("Five-Year Plan")
    pdf.set_author("Springfield Housing Authority")
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 9, f"{page}. {TOPICS[page % len(TOPICS)].capitalize()}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        if page % 10 == 0:
            top, gap = pdf.get_y(), 10
            width = (pdf.w - pdf.l_margin - pdf.r_margin - gap) / 2
            pdf.multi_cell(width, 6, paragraph(page, 1), new_x="LMARGIN", new_y="NEXT")
            pdf.set_xy(pdf.l_margin + width + gap, top)
            pdf.multi_cell(width, 6, paragraph(page, 2), new_x="LMARGIN", new_y="NEXT")
            continue
        for n in range(1, 4):
            pdf.multi_cell(0, 6, paragraph(page, n), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        for n in range(1, 4):
            pdf.multi_cell(0, 6, f"{n}. {step(page, n)}", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "import_pdf.json")
    ap.add_argument("--pages", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pdf = root / "five-year-plan.pdf"
        write_pdf(pdf, args.pages)
        corpus = root / "corpus"
        options = Options(source="https://housing.example/five-year-plan.pdf", date=None)
        started = time.perf_counter()
        imports, problems = plan([pdf], options, corpus, max_mb=200, force=False)
        assert not problems, problems
        write(imports, corpus)
        add_s = time.perf_counter() - started
        loaded = time.perf_counter()
        get_embeddings().embed_query("load")
        multilingual = get_multilingual_embeddings()
        if multilingual is not None:
            multilingual.embed_query("load")
        load_s = time.perf_counter() - loaded
        started = time.perf_counter()
        report = ingest(Settings(data_dir=root / "data", corpus_dir=corpus))
        ingest_s = time.perf_counter() - started
        document = imports[0].document
        figures = {
            "pages": args.pages,
            "pdf_kb": round(pdf.stat().st_size / 1024, 1),
            "characters": sum(len(p) for p in document.paragraphs),
            "passages": report.total,
            "add_s": round(add_s, 2),
            "add_s_per_page": round(add_s / args.pages, 3),
            "models_load_s": round(load_s, 2),
            "ingest_s_all_collections": round(ingest_s, 2),
            "multilingual": multilingual is not None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for key, value in figures.items():
        print(f"{key:26} {value}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
