"""A PDF's text for the tests, without a PDF library: pypdf where it is installed, else a reader of just what
Chromium (Skia) writes: Flate streams, fonts with a ToUnicode CMap, and text shown as hex glyph strings.

Good enough to ask "does the PDF hold this number", not a general PDF parser."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
FONT_REF = re.compile(rb"/(F\d+) (\d+) 0 R")
TO_UNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
TOKEN = re.compile(rb"/(F\d+) [\d.]+ Tf|<([0-9A-Fa-f]*)>|(BT|ET|Tm|Td|TD|T\*)\b")


def pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:
        return _skia_text(path.read_bytes())
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _streams(pdf: bytes) -> dict[int, tuple[bytes, bytes]]:
    """Object number -> (its dictionary, its inflated stream or b"")."""
    out = {}
    for num, body in OBJ.findall(pdf):
        m = STREAM.search(body)
        head = body[: m.start()] if m else body
        data = b""
        if m:
            data = m.group(1)
            if b"FlateDecode" in head:
                try:
                    data = zlib.decompress(data)
                except zlib.error:
                    data = b""
        out[int(num)] = (head, data)
    return out


def _cmap(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap's bfchar and bfrange entries: glyph code -> text."""
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(start + i)
    return out


def _skia_text(pdf: bytes) -> str:
    objs = _streams(pdf)
    fonts: dict[bytes, dict[int, str]] = {}
    for head, _ in objs.values():
        for name, ref in FONT_REF.findall(head):
            font_head = objs.get(int(ref), (b"", b""))[0]
            if (m := TO_UNICODE.search(font_head)) is not None:
                fonts[name] = _cmap(objs[int(m.group(1))][1])
    text: list[str] = []
    for _, data in objs.values():
        if b" Tf" not in data:
            continue
        cmap: dict[int, str] = {}
        for m in TOKEN.finditer(data):
            if m.group(1):
                cmap = fonts.get(m.group(1), {})
            elif m.group(2) is not None:
                h = m.group(2).decode()
                text += [cmap.get(int(h[i : i + 4], 16), "") for i in range(0, len(h), 4)]
            else:
                text.append("" if m.group(3) in (b"Td", b"TD") else "\n")
    return "".join(text)
