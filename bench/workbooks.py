"""Crafted files for the importer's bounds: small files that claim (or unpack to) a lot.

Used by the imports benchmark (bench/imports.py) and by the importer's tests alike, so they
live here, outside tests/.

Each builds its bytes from scratch, with no file on disk:
  huge_dimension      a few KB, the sheet's <dimension> claims A1:XFD1048576
  far_cell            a cell at XFD1048576 (the dimension lies: A1:B2)
  far_merge           a merged range A1:XFD1048576
  zip_bomb            a sheet part that unpacks to more than the per-part limit
  lying_zip_bomb      the same, with a zip directory that claims the part is 1 KB
  encrypted_ole       the OLE compound file Excel writes for a password-protected workbook
  old_xls             an OLE compound file without encryption (a .xls)
  random_bytes        noise
  zip_without_workbook  a zip archive holding a text file
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile

from openpyxl import Workbook

FAR_CORNER = "XFD1048576"


def small_workbook(title: str = "2021年部门整体支出绩效目标表") -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "表A"
    ws["A1"] = title
    ws["B2"] = "资金总额"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    """The xlsx `data` with part `name` replaced by `content` (added if it is not there)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = content if info.filename == name else source.read(info.filename)
            target.writestr(info.filename, body)
        if name not in source.namelist():
            target.writestr(name, content)
    return buffer.getvalue()


def _sheet_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()


def _with_sheet(xml: str) -> bytes:
    return replace_part(small_workbook(), "xl/worksheets/sheet1.xml", xml.encode())


def huge_dimension() -> bytes:
    xml = re.sub(
        r'<dimension ref="[^"]*"\s*/>',
        f'<dimension ref="A1:{FAR_CORNER}"/>',
        _sheet_xml(small_workbook()),
    )
    assert FAR_CORNER in xml
    return _with_sheet(xml)


def far_cell() -> bytes:
    xml = re.sub(
        r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:B2"/>', _sheet_xml(small_workbook())
    )
    far = f'<row r="1048576"><c r="{FAR_CORNER}" t="n"><v>1</v></c></row>'
    return _with_sheet(xml.replace("</sheetData>", far + "</sheetData>"))


def far_merge() -> bytes:
    xml = _sheet_xml(small_workbook())
    merge = f'<mergeCells count="1"><mergeCell ref="A1:{FAR_CORNER}"/></mergeCells>'
    xml = xml.replace("</sheetData>", "</sheetData>" + merge)
    return _with_sheet(xml)


def _bomb(unpacked_bytes: int) -> bytes:
    """A workbook whose sheet part unpacks to about `unpacked_bytes` of rows (written in
    chunks, so making it needs little memory)."""
    base = small_workbook()
    source = zipfile.ZipFile(io.BytesIO(base))
    head, tail = _sheet_xml(base).split("</sheetData>")
    row = "".join(f'<c r="{col}1"><v>0</v></c>' for col in "ABCDEFGHIJ")
    chunk = (f"<row>{row}</row>" * 2000).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, source.read(info.filename))
                continue
            with target.open(info.filename, "w", force_zip64=True) as part:
                part.write(head.encode())
                written = 0
                while written < unpacked_bytes:
                    part.write(chunk)
                    written += len(chunk)
                part.write(("</sheetData>" + tail).encode())
    return buffer.getvalue()


def zip_bomb(unpacked_bytes: int = 64 * 2**20) -> bytes:
    return _bomb(unpacked_bytes)


def lying_zip_bomb(unpacked_bytes: int = 64 * 2**20, claimed: int = 1024) -> bytes:
    """The bomb with the sheet part's uncompressed size rewritten to `claimed` in the zip's
    central directory (what readers trust) and its local header."""
    data = bytearray(_bomb(unpacked_bytes))
    name = b"xl/worksheets/sheet1.xml"
    central = data.find(b"PK\x01\x02" + bytes(0))
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        extra_length = struct.unpack_from("<H", data, central + 30)[0]
        if data[central + 46 : central + 46 + name_length] == name:
            struct.pack_into("<I", data, central + 24, claimed)
            # zip64 extra field (written by force_zip64): its first value is the real size
            extra = central + 46 + name_length
            end = extra + extra_length
            while extra < end:
                tag, size = struct.unpack_from("<HH", data, extra)
                if tag == 0x0001:
                    struct.pack_into("<Q", data, extra + 4, claimed)
                extra += 4 + size
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _ole(stream_names: list[str]) -> bytes:
    """A compound-file header and a directory sector naming `stream_names` (enough for any
    reader that looks at the signature and the stream names, as the importer does)."""
    header = OLE_MAGIC + bytes(16) + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9) + bytes(512 - 32)
    entries = b""
    for stream in ["Root Entry", *stream_names]:
        encoded = stream.encode("utf-16-le") + b"\x00\x00"
        entries += encoded.ljust(64, b"\x00") + struct.pack("<H", len(encoded)) + bytes(62)
    return header + entries.ljust(512 * 4, b"\x00")


def encrypted_ole() -> bytes:
    """What Excel writes for a workbook with an opening password (ECMA-376 encryption)."""
    return _ole(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"])


def old_xls() -> bytes:
    return _ole(["Workbook", "\x05SummaryInformation"])


def random_bytes(size: int = 5000, seed: int = 12) -> bytes:
    return random.Random(seed).randbytes(size)


def zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("说明.txt", "不是工作簿")
    return buffer.getvalue()


def many_shared_strings(count: int = 150_000) -> bytes:
    """A workbook within every size limit whose shared-strings part holds `count` distinct
    strings (all read into memory when the workbook is opened): costly, but legal."""
    items = "".join(f"<si><t>第{number}项绩效指标说明文字</t></si>" for number in range(count))
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{count}" uniqueCount="{count}">{items}</sst>'
    )
    base = small_workbook()
    types = zipfile.ZipFile(io.BytesIO(base)).read("[Content_Types].xml").decode()
    shared = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
    )
    with_types = replace_part(
        base, "[Content_Types].xml", types.replace("</Types>", shared + "</Types>").encode()
    )
    return replace_part(with_types, "xl/sharedStrings.xml", xml.encode())


def repeated_rows(copies: int = 5_000) -> bytes:
    """A few KB whose sheet repeats row 1 (A1:J1) `copies` times: every cell within the
    layout's limits, yet a parse cost that grows with the stream."""
    xml = _sheet_xml(small_workbook())
    row = "".join(f'<c r="{col}1"><v>1</v></c>' for col in "ABCDEFGHIJ")
    return _with_sheet(
        xml.replace("</sheetData>", f'<row r="1">{row}</row>' * copies + "</sheetData>")
    )
