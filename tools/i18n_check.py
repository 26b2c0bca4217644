"""Fill i18n/fr.po from a dict of translations and report what is still missing.

Usage: python tools/i18n_check.py [translations.py|other.po ...]
Each translations file defines a dict ``T`` {msgid: msgstr}, or is another .po file whose
translated entries are taken (handy after merging branches). Without files, only reports.
Exits 1 when some msgid has no French translation.
"""

import runpy
import sys
from pathlib import Path

import polib

PO_PATH = Path(__file__).resolve().parent.parent / "i18n" / "fr.po"


def main(paths):
    po = polib.pofile(str(PO_PATH), wrapwidth=78)
    translations, fallback = {}, {}
    for path in paths:
        if path.endswith(".po"):
            # other .po files (Odoo's own, another branch's) only fill what has no French yet
            fallback.update({e.msgid: e.msgstr for e in polib.pofile(path) if e.msgstr and "fuzzy" not in e.flags})
        else:
            translations.update(runpy.run_path(path)["T"])
    for entry in po:
        untranslated = not entry.msgstr or "fuzzy" in entry.flags
        if entry.msgid in translations or (untranslated and entry.msgid in fallback):
            entry.msgstr = translations.get(entry.msgid) or fallback[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    po.metadata["Language"] = "fr"
    po.metadata["Plural-Forms"] = "nplurals=2; plural=(n > 1);"
    if paths:
        po.save(str(PO_PATH))
    missing = [entry.msgid for entry in po if not entry.msgstr or "fuzzy" in entry.flags]
    for msgid in missing:
        sys.stdout.write(f"missing: {msgid!r}\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
