"""Which extraction engine: Apache Tika's parsers (3.3.1, from Maven Central, driven by
harness/extraction/java/TikaExtract.java) or the Python extractors
(harness/extraction/python_engine.py), on the same seeded corpus (fixtures/documents.py):
sentence recall per format, docs/s of the engine alone (no HTTP, warm), and peak RSS.

    PYTHONPATH=. python scripts/measure_extraction.py --per-format 60 --tika /tmp/tika-probe

``--tika DIR`` holds ``lib/`` (tika-core and tika-parsers-standard-package with their
dependencies: ``mvn dependency:copy-dependencies``) and ``classes/`` (TikaExtract compiled).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from fixtures.documents import FORMATS, Document, document, missing_sentences
from harness.extraction.python_engine import ExtractionError, extract

JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"


def corpus(per_format: int) -> list[Document]:
    return [document(1, n, fmt) for fmt in FORMATS for n in range(per_format)]


def recall(docs: list[Document], texts: dict[str, str]) -> dict[str, float]:
    by_format: dict[str, list[float]] = {}
    for doc in docs:
        found = 1 - len(missing_sentences(doc, texts.get(doc.key, ""))) / len(doc.sentences)
        by_format.setdefault(doc.fmt, []).append(found)
    return {fmt: round(statistics.mean(v), 4) for fmt, v in by_format.items()}


def python_engine(docs: list[Document]) -> tuple[dict[str, str], dict[str, float]]:
    texts, seconds = {}, {}
    for doc in docs:
        started = time.perf_counter()
        try:
            texts[doc.key] = extract(doc.data)[0]
        except ExtractionError:
            texts[doc.key] = ""
        seconds[doc.key] = time.perf_counter() - started
    return texts, seconds


def tika_engine(docs: list[Document], tika: Path) -> tuple[dict[str, str], dict[str, float], int]:
    with tempfile.TemporaryDirectory() as work:
        source, out = Path(work, "in"), Path(work, "out")
        source.mkdir()
        out.mkdir()
        names = {}
        for i, doc in enumerate(docs):
            name = f"{i:06d}.{doc.fmt}"
            names[name] = doc.key
            (source / name).write_bytes(doc.data)
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", JAVA, "-Xmx512m", "-cp",
             f"{tika / 'classes'}:{tika / 'lib'}/*", "TikaExtract", str(source), str(out)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rss_kb = int(done.stderr.strip().splitlines()[-1])
        texts = {names[p.name[:-4]]: p.read_text() for p in out.glob("*.txt")}
        seconds = {}
        for line in (out / "timings.tsv").read_text().splitlines():
            name, micros = line.split("\t")
            seconds[names[name]] = int(micros) / 1e6
    return texts, seconds, rss_kb // 1024


def rate(docs: list[Document], seconds: dict[str, float]) -> dict[str, float]:
    """docs/s per format, over the second half of each format's files (warm)."""
    result = {}
    for fmt in FORMATS:
        timed = [seconds[d.key] for d in docs if d.fmt == fmt]
        warm = timed[len(timed) // 2 :]
        result[fmt] = round(len(warm) / sum(warm), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-format", type=int, default=60)
    parser.add_argument("--tika", type=Path, required=True)
    args = parser.parse_args()
    docs = corpus(args.per_format)
    py_texts, py_seconds = python_engine(docs)
    py_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    tika_texts, tika_seconds, tika_rss = tika_engine(docs, args.tika)
    for name, texts, seconds, rss in (
        ("python", py_texts, py_seconds, py_rss),
        ("tika", tika_texts, tika_seconds, tika_rss),
    ):
        print(json.dumps({"engine": name, "recall": recall(docs, texts),
                          "docs_per_s": rate(docs, seconds), "peak_rss_mb": rss}))  # fmt: skip


if __name__ == "__main__":
    main()
