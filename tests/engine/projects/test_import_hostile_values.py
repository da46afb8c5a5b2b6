"""Hostile values in imported files are refused per file with a reason, and the good
files of the same import still land."""

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from project_files import write_dataset

from engine import store as st
from engine.errors import ImageError
from engine.image_io import load_image, save_image
from engine.projects.importing import import_dataset


def test_a_5001_digit_integer_rejects_its_file_only(project, tmp_path, body):
    good, _ = write_dataset(tmp_path, "coco", 2, body)
    text = good.read_text().rstrip()
    assert text.endswith("}")
    evil = tmp_path / "evil.json"
    evil.write_text(text[:-1] + ', "info": {"year": ' + "9" * 5001 + "}}")
    report = import_dataset(project, [evil, good], name="mixed")
    (where, why), = report.rejected
    assert where == str(evil) and "number too long" in why
    assert report.persons == 2
    assert len(st.list_images(project)) == 2


def _png_bomb(path, side: int) -> None:
    """A valid 1-bit PNG of side x side black pixels: a few hundred KB that decode to side^2."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_a_folder_import_rejects_oversized_tiny_and_gif_images_one_by_one(project, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    save_image(folder / "good.png", np.full((64, 48, 3), 120, np.uint8))
    _png_bomb(folder / "bomb.png", 20000)
    _png_bomb(folder / "big.png", 10001)
    save_image(folder / "dot.png", np.zeros((1, 1, 3), np.uint8))
    (folder / "anim.gif").write_bytes(b"GIF89a" + b"\x00" * 20)
    report = import_dataset(project, [folder], name="photos", detect=False)
    why = {Path(where).name: reason for where, reason in report.rejected}
    assert sorted(why) == ["anim.gif", "big.png", "bomb.png", "dot.png"]
    assert "megapixels" in why["bomb.png"] and "10001x10001" in why["big.png"]
    assert "too small" in why["dot.png"] and ".gif images are not read" in why["anim.gif"]
    assert [Path(im.path).name for im in st.list_images(project)] == ["good.png"]


def test_load_image_refuses_a_bomb_before_decoding_it(tmp_path):
    _png_bomb(tmp_path / "bomb.png", 20000)
    with pytest.raises(ImageError, match="megapixels"):
        load_image(tmp_path / "bomb.png")


def test_absurd_scales_and_has_smpl_flags_reject_their_rows(project, tmp_path, body):
    path, _ = write_dataset(tmp_path, "spin", 5, body)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["scale"] = arrays["scale"].astype(np.float64)
    arrays["scale"][0] = 1e30
    arrays["has_smpl"] = arrays["has_smpl"].astype(np.float64)
    arrays["has_smpl"][1:4] = [2, -1, np.nan]
    np.savez(path, **arrays)
    report = import_dataset(project, [path], name="odd")
    why = {where.rsplit("#", 1)[1]: reason for where, reason in report.rejected}
    assert sorted(why) == ["0", "1", "2", "3"]
    assert "reaches beyond" in why["0"]
    assert all("has_smpl must be 0 or 1" in why[k] for k in "123")
    assert report.persons == 1
