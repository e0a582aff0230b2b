"""Keep each package's Dutch catalog in step with its code and templates.

    python tools/catalogs.py update   # add new msgids (empty), mark vanished ones obsolete
    python tools/catalogs.py check    # list msgids without a Dutch translation; exit 1 if any
    python tools/catalogs.py missing PACKAGE       # the msgids lacking Dutch, as JSON to fill in
    python tools/catalogs.py fill F.json PACKAGE [FILE]  # Dutch from {"msgid": "Dutch", ...} into FILE.po

Each package (core, scheduler, telephony, calendars, notifications, participants) owns
`<package>/translations/nl/LC_MESSAGES/*.po` (one or more files, merged). Msgids are English;
Dutch is the office's language and the default, so an untranslated msgid
is a bug: tests/unit/test_catalogs.py runs `check`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "scheduler", "telephony", "calendars", "notifications", "participants")
METHODS = [("**/translations/**", "ignore"), ("**.py", "python"),
           ("**/templates/**.html", "jinja2.ext:babel_extract")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do", "newstyle_gettext": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}


def catalog_path(package: str, name: str = "messages") -> Path:
    return ROOT / package / "translations" / "nl" / "LC_MESSAGES" / f"{name}.po"


def extract(package: str) -> Catalog:
    found = Catalog(locale="nl")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / package, METHODS, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        found.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return found


def load(package: str, name: str = "messages") -> Catalog:
    path = catalog_path(package, name)
    if not path.exists():
        return Catalog(locale="nl", project="Pendel")
    with path.open("rb") as handle:
        return read_po(handle, locale="nl")


def load_all(package: str) -> Catalog:
    """All of a package's Dutch catalogs as one (a package may split its words over several files)."""
    merged = Catalog(locale="nl", project="Pendel")
    for path in sorted(catalog_path(package).parent.glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="nl"):
                if message.id and message.string and not message.fuzzy:
                    merged[message.id] = message
    return merged


def update(package: str) -> int:
    """Add every msgid no catalog of the package translates yet to its messages.po (empty)."""
    catalog = load(package)
    known = load_all(package)
    template = extract(package)
    for message in template:
        if message.id and message.id not in catalog and known.get(message.id) is None:
            catalog[message.id] = message
    path = catalog_path(package)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, ignore_obsolete=True, include_lineno=False)
    return len(template)


def missing(package: str) -> list[str]:
    catalog = load_all(package)
    gaps = []
    for message in extract(package):
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        strings = entry.string if entry is not None else None
        if isinstance(strings, (tuple, list)):
            ok = all(strings)
        else:
            ok = bool(strings)
        if entry is None or not ok or entry.fuzzy:
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def translate(package: str, words: dict[str, str | list[str]], name: str = "messages") -> None:
    """Dutch for msgids the package's code uses, into `<name>.po` (a list for a plural's forms)."""
    catalog = load(package, name)
    used = {m.id if isinstance(m.id, str) else m.id[0]: m for m in extract(package) if m.id}
    for msgid, dutch in words.items():
        source = used.get(msgid)
        if source is None:
            raise KeyError(f"{package}: {msgid!r} is not used in its code or templates")
        if isinstance(source.id, tuple):
            if not isinstance(dutch, list) or len(dutch) != 2:
                raise ValueError(f"{package}: {msgid!r} is a plural: give [singular, plural]")
            catalog.add(source.id, tuple(dutch))
        else:
            catalog.add(source.id, dutch if isinstance(dutch, str) else dutch[0])
    path = catalog_path(package, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, ignore_obsolete=True, include_lineno=False)


def conflicts() -> list[str]:
    """Msgids translated differently in two catalogs: all catalogs merge into one, so one would lose."""
    seen: dict[str, set[tuple[str, str]]] = {}
    for package in PACKAGES:
        for path in sorted(catalog_path(package).parent.glob("*.po")):
            with path.open("rb") as handle:
                for message in read_po(handle, locale="nl"):
                    if message.id and message.string:
                        key = message.id if isinstance(message.id, str) else message.id[0]
                        dutch = message.string if isinstance(message.string, str) else message.string[0]
                        seen.setdefault(key, set()).add((dutch, str(path.relative_to(ROOT))))
    return [f"{msgid!r}: " + "; ".join(f"{dutch} ({where})" for dutch, where in sorted(found))
            for msgid, found in sorted(seen.items()) if len({dutch for dutch, _ in found}) > 1]


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    packages = argv[1:] or PACKAGES
    if command == "update":
        for package in packages:
            print(f"{package}: {update(package)} messages")
        return 0
    if command == "check":
        bad = 0
        for package in packages:
            for msgid in missing(package):
                print(f"{package}: no Dutch for {msgid!r}")
                bad += 1
        for clash in conflicts():
            print(f"two Dutch words for {clash}")
            bad += 1
        return 1 if bad else 0
    if command == "fill" and len(argv) in (3, 4):
        import json

        translate(argv[2], json.loads(Path(argv[1]).read_text(encoding="utf-8")), *argv[3:])
        return 0
    if command == "missing" and len(argv) == 2:
        import json

        print(json.dumps({msgid: "" for msgid in missing(argv[1])}, ensure_ascii=False, indent=1))
        return 0
    print("usage: python tools/catalogs.py update|check [package ...] | fill F.json package", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
