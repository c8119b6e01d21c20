"""Open CSV files in a real spreadsheet engine (LibreOffice Calc, headless) and read back every cell."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
CSV_UTF8 = "CSV:44,34,76,1"  # comma-separated, double-quoted, UTF-8, from line 1: how the site writes them
CONVERT_SECONDS = 180


@dataclass(frozen=True)
class Cell:
    text: str
    formula: str | None  # table:formula, when the spreadsheet made the cell a formula


def soffice_available() -> bool:
    return Path(SOFFICE).exists()


def open_in_calc(csv_files: list[Path], workdir: Path) -> dict[str, list[list[Cell]]]:
    """Convert each CSV to flat ODF (.fods) with LibreOffice; returns each file's rows of cells, by file stem."""
    out = workdir / "converted"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{workdir / 'lo-profile'}",  # a private profile: parallel runs do not clash
            "--headless",
            "--norestore",
            f"--infilter={CSV_UTF8}",
            "--convert-to",
            "fods",
            "--outdir",
            str(out),
            *map(str, csv_files),
        ],
        check=True,
        capture_output=True,
        timeout=CONVERT_SECONDS,
    )
    return {path.stem: read_fods(out / f"{path.stem}.fods") for path in csv_files}


def read_fods(path: Path) -> list[list[Cell]]:
    """The first sheet's rows, trailing empty cells dropped."""
    sheet = next(ET.parse(path).getroot().iter(f"{TABLE}table"))
    rows = []
    for row in sheet.iter(f"{TABLE}table-row"):
        cells: list[Cell] = []
        for cell in row:
            if cell.tag not in (f"{TABLE}table-cell", f"{TABLE}covered-table-cell"):
                continue
            text = "\n".join(cell_text(p) for p in cell.iter(f"{TEXT}p"))
            repeat = int(cell.get(f"{TABLE}number-columns-repeated", "1"))
            cells += [Cell(text, cell.get(f"{TABLE}formula"))] * min(repeat, 1000)
        while cells and not cells[-1].text and cells[-1].formula is None:
            cells.pop()
        if cells:
            rows.append(cells)
    return rows


def cell_text(element: ET.Element) -> str:
    """A paragraph's text with ODF's tab and space elements put back."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{TEXT}tab":
            parts.append("\t")
        elif child.tag == f"{TEXT}s":
            parts.append(" " * int(child.get(f"{TEXT}c", "1")))
        else:
            parts.append(cell_text(child))
        parts.append(child.tail or "")
    return "".join(parts)
