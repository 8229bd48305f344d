"""Comparison reports: one ReportData built from the store, rendered as HTML, Markdown, PDF or JSON.

    data = build(store, ["convergence"], command="lossdb report …")
    path = write(data, "pdf", Path("report.pdf"))          # or files(data, fmt) for the bytes
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

from lossdb.core import jsontext
from lossdb.core.errors import ConfigError
from lossdb.core.outfiles import check_target, write_atomic
from lossdb.core.report import figures
from lossdb.core.report.figures import svgs
from lossdb.core.report.model import SCHEMA_VERSION, ReportData, as_json, build

FORMATS = ("html", "md", "pdf", "json")
EXTENSIONS = {"html": ".html", "md": ".md", "pdf": ".pdf", "json": ".json"}
MIME = {"html": "text/html", "md": "application/zip", "pdf": "application/pdf", "json": "application/json"}
DEFAULT_STEM = "lossdb-report"

__all__ = ["FORMATS", "MIME", "SCHEMA_VERSION", "ReportData", "as_json", "build", "download", "download_name", "files", "schema",
           "svgs", "target", "validate", "write"]


def schema() -> dict[str, Any]:
    """The JSON schema of the JSON format (core/report/report.schema.json)."""
    text = resources.files("lossdb.core.report").joinpath("report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless `document` is a valid report JSON."""
    import jsonschema

    jsonschema.validate(document, schema())


def _check(fmt: str, interactive: bool) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}; valid: {', '.join(FORMATS)}")
    if interactive and fmt != "html":
        raise ConfigError("--interactive makes live charts in HTML only: use it with --format html")


def files(data: ReportData, fmt: str, name: str = DEFAULT_STEM, interactive: bool = False,
          svgs: dict[str, str] | None = None) -> dict[str, bytes]:
    """Every file of the report by relative path, the main one first: name.html; name.md with its
    charts in name_files/; name.pdf; name.json. `svgs` reuses charts already rendered."""
    _check(fmt, interactive)
    main = name + EXTENSIONS[fmt]
    if fmt == "json":
        text = jsontext.dumps(as_json(data), indent=2)
        return {main: (text + "\n").encode()}
    svgs = svgs if svgs is not None else figures.svgs(data.charts)
    if fmt == "html":
        from lossdb.core.report import html

        return {main: html.render(data, svgs, interactive).encode()}
    if fmt == "pdf":
        from lossdb.core.report import pdf

        return {main: pdf.render(data, svgs)}
    from lossdb.core.report import markdown

    folder = f"{name}_files"
    out = {main: markdown.render(data, folder).encode()}
    out.update({f"{folder}/{cid}.svg": svg.encode() for cid, svg in svgs.items()})
    return out


def target(fmt: str, out: Path | None) -> Path:
    """Where a report goes: `out`, a file in `out` when it is a folder, else ./lossdb-report.EXT."""
    ext = EXTENSIONS[fmt] if fmt in EXTENSIONS else ""
    if out is None:
        return Path.cwd() / (DEFAULT_STEM + ext)
    if out.is_dir():
        return out / (DEFAULT_STEM + ext)
    return out if out.suffix else out.with_name(out.name + ext)


def write(data: ReportData, fmt: str, out: Path | None = None, interactive: bool = False, *,
          force: bool = False, protected: tuple[Path | None, ...] = ()) -> Path:
    """Write the report (and, for Markdown, its chart files beside it); returns the main file's path.

    Never over a `protected` file (the database it was built from), nor over an existing file
    unless `force`; each file is written under a temporary name and renamed when complete.
    """
    _check(fmt, interactive)
    path = target(fmt, out)
    check_target(path, force=force, protected=protected)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    produced = files(data, fmt, stem, interactive)
    for rel, content in produced.items():
        dest = path if rel == next(iter(produced)) else path.parent / rel
        try:
            if dest != path:
                dest.parent.mkdir(parents=True, exist_ok=True)
                check_target(dest, force=True, protected=protected)
            write_atomic(dest, content)
        except OSError as e:
            raise ConfigError(f"cannot write {dest}: {e.strerror or e}") from None
    return path


def download_name(fmt: str, interactive: bool = False) -> str:
    """The file name of one format as a single download (Markdown comes as a .zip)."""
    _check(fmt, interactive)
    if fmt == "md":
        return DEFAULT_STEM + "-md.zip"
    return DEFAULT_STEM + ("-interactive" if interactive else "") + EXTENSIONS[fmt]


def download(data: ReportData, fmt: str, interactive: bool = False,
             svgs: dict[str, str] | None = None) -> tuple[str, bytes, str]:
    """(file name, bytes, MIME type) of one format as a single download; Markdown comes as a .zip
    of the .md file and its chart folder."""
    produced = files(data, fmt, DEFAULT_STEM + ("-interactive" if interactive else ""), interactive, svgs)
    if fmt != "md":
        name, content = next(iter(produced.items()))
        return name, content, MIME[fmt]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, content in produced.items():
            zf.writestr(rel, content)
    return download_name("md"), buffer.getvalue(), MIME["md"]
