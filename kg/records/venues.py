"""Venue names: the common spellings of a venue normalised to one short name, remarks split off.

    parse_venue("Advances in Neural Information Processing Systems", year=2024)
        -> Venue(name="NeurIPS 2024", original="Advances in Neural Information Processing Systems", note=None)
    parse_venue("Findings of the Association for Computational Linguistics: EMNLP 2023")
        -> Venue(name="EMNLP 2023 (Findings)", original="Findings of ...: EMNLP 2023", note=None)
    parse_venue("SIGIR 2024 (per liner review page)")
        -> Venue(name="SIGIR 2024", original="SIGIR 2024 (per liner review page)", note="per liner review page")
    parse_venue("arXiv preprint arXiv:2403.14599") -> Venue(name="arXiv", original="arXiv preprint ...", note=None)

Known: NeurIPS (NIPS, Advances in Neural Information Processing Systems), ICML, ICLR, CVPR,
ICCV, ECCV, ACL, EMNLP, NAACL, EACL, AACL (long, short, demo and Findings papers), AAAI, KDD,
SIGIR, WWW (TheWebConf, the ACM Web Conference) and arXiv (CoRR, "arXiv preprint arXiv:...").
The year comes from the text ("2023", "'23"), else from the `year` given. A workshop
("... Workshop on X") is left as written; the collected "Workshops" of CVPR, ICCV or ECCV
become "CVPR 2024 (Workshops)". Unknown venues are kept as written (spaces collapsed).

Curation remarks are never part of a venue: a parenthesis such as "(per liner review page)"
or "(unverified)" goes to `note`, and so does a status ("submitted to ICRA 2025" is no venue
at all: its name is None). Importers store `name` as the work's venue, `original` (the
venue as the source wrote it, when it differs) and `note` in fields of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Venue:
    name: str | None  # the normalised venue, e.g. "EMNLP 2023 (Findings)"; None when there is none
    original: str | None = None  # the text as written, when it differs from name
    note: str | None = None  # a remark split off the text ("per liner review page", "submitted to ...")


_I = re.IGNORECASE
# (short name, what names it, what says it is another venue after all); first match wins
_RULES: list[tuple[str, re.Pattern, re.Pattern | None]] = [
    ("arXiv", re.compile(r"^(?:arxiv|corr)\b|\barxiv\s+(?:preprint|e-?prints?)\b|^arxiv\.org\b", _I), None),
    ("NAACL", re.compile(r"North American Chapter of the Association for Computational Linguistics|\bNAACL\b", _I),
     None),
    ("EACL", re.compile(r"European Chapter of the Association for Computational Linguistics|\bEACL\b", _I), None),
    ("AACL", re.compile(r"Asia-Pacific Chapter of the Association for Computational Linguistics|\bAACL\b", _I),
     None),
    ("EMNLP", re.compile(r"Empirical Methods in Natural Language Processing|\bEMNLP\b", _I), None),
    ("ACL", re.compile(r"Annual Meeting of the Association for Computational Linguistics|\bACL\b"),
     re.compile(r"Transactions", _I)),
    ("NeurIPS", re.compile(r"Neural Information Processing Systems|\bNeurIPS\b|\bNIPS\b", _I), None),
    ("ICML", re.compile(r"International Conference on Machine Learning(?!\s+and\b)|\bICML\b", _I), None),
    ("ICLR", re.compile(r"International Conference on Learning Representations|\bICLR\b", _I), None),
    ("CVPR", re.compile(r"Computer Vision and Pattern Recognition|\bCVPRW?\b", _I), None),
    ("ICCV", re.compile(r"International Conference on Computer Vision|\bICCVW?\b", _I), None),
    ("ECCV", re.compile(r"European Conference on Computer Vision|\bECCVW?\b", _I), None),
    ("AAAI", re.compile(r"\bAAAI\b|National Conference on Artificial Intelligence", _I),
     re.compile(r"AAAI/ACM|Symposi|Web and Social Media|ICWSM|Human Computation|HCOMP|Ethics", _I)),
    ("KDD", re.compile(r"Knowledge Discovery (?:and|&) Data Mining|\bSIGKDD\b|\bKDD\b", _I),
     re.compile(r"Pacific[- ]Asia|PAKDD|Explorations|Transactions", _I)),
    ("SIGIR", re.compile(r"Research and Development in Information Retrieval|\bSIGIR\b", _I),
     re.compile(r"Forum|Theory of Information Retrieval|ICTIR|SIGIR[- ]AP|Asia[- ]Pacific", _I)),
    ("WWW", re.compile(r"\bWWW\b|\bTheWebConf\b|\bWeb Conference\b|World Wide Web Conference", _I),
     re.compile(r"Asia[- ]Pacific|APWeb|Journal|Transactions", _I)),
]
# Kinds of paper within a venue, kept in the normalised name: "ACL 2023 (long)".
_QUALIFIERS = [
    ("Findings", re.compile(r"\bFindings\b", _I)),
    ("long", re.compile(r"\bLong Papers?\b|\blong\b", _I)),
    ("short", re.compile(r"\bShort Papers?\b|\bshort\b", _I)),
    ("demo", re.compile(r"System Demonstrations?|\bdemos?\b", _I)),
    ("industry", re.compile(r"Industry Track|\bindustry\b", _I)),
    ("Datasets and Benchmarks", re.compile(r"Datasets and Benchmarks", _I)),
    ("Companion", re.compile(r"\bCompanion\b", _I)),
    ("Workshops", re.compile(r"\bWorkshops\b|\b(?:CVPR|ICCV|ECCV)W\b", _I)),
]
_WORKSHOP = re.compile(r"\bworkshop\b", _I)  # one workshop ("Workshop on X"): not the conference itself
_YEAR = re.compile(r"(?<![\d.:/])(19[5-9]\d|20\d\d)(?!\d|\.\d)")
_SHORT_YEAR = re.compile(r"(?<=[A-Za-z])\s?['\u2019](\d\d)\b")
# A status before the venue: "submitted to X" names no venue; "to appear in X" and "likely X" do, with a note.
_NOT_YET = re.compile(r"^(submitted to|under review (?:at|for)|in submission (?:at|to)|rejected (?:at|from))\s+", _I)
_STATUS = re.compile(r"^(likely|probably|possibly|perhaps|maybe|to appear (?:in|at)|accepted (?:at|to|in|by)|"
                     r"forthcoming (?:in|at))\s+", _I)
# A parenthesis is a remark, not part of the venue, when it says where the venue came from or how sure it is.
_REMARK = re.compile(r"\b(?:per|unverified|not verified|verified|likely|probably|unsure|uncertain|unclear|"
                     r"according to|see|via|listed|lists|liner|openreview|submission|submitted|under review|"
                     r"project page|page|copy|template|journal version|extended version|conference version|"
                     r"camera[- ]ready|to appear|accepted|guess(?:ed)?|assumed|inferred)\b|\?", _I)
_PAREN = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]")


def _clean(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().strip(",;").strip()


def split_note(text: str | None) -> tuple[str | None, str | None]:
    """(venue, remark): 'CVPR (per liner review page)' -> ('CVPR', 'per liner review page');
    'submitted to ICRA 2025 (project page)' -> (None, 'submitted to ICRA 2025 (project page)')."""
    text = _clean(text)
    if not text:
        return None, None
    if _NOT_YET.match(text):
        return None, text
    notes: list[str] = []
    status = _STATUS.match(text)
    if status:
        notes.append(status.group(1).lower())
        text = text[status.end():]

    def remark(m: re.Match) -> str:
        if _REMARK.search(m.group(1)):
            notes.append(m.group(1).strip())
            return ""
        return m.group(0)

    text = _clean(_PAREN.sub(remark, text))
    return (text or None), ("; ".join(n for n in notes if n) or None)


def _year(text: str, year) -> str | None:
    m = _YEAR.search(text)
    if m:
        return m.group(1)
    m = _SHORT_YEAR.search(text)
    if m:
        return "20" + m.group(1)
    return str(year) if isinstance(year, int) and 1900 <= year <= 2100 else None


def _short_name(text: str) -> str | None:
    for short, names, unless in _RULES:
        if names.search(text) and not (unless and unless.search(text)):
            return short
    return None


def parse_venue(text: str | None, year: int | None = None) -> Venue:
    """The normalised venue of a text, with the text as written and any remark split off."""
    original = _clean(text) or None
    venue, note = split_note(original)
    if venue is None:
        return Venue(None, original, note)
    short = _short_name(venue)
    name = venue
    if short == "arXiv":
        name = "arXiv"
    elif short and not (_WORKSHOP.search(venue) and not _QUALIFIERS[-1][1].search(venue)):
        parts = [short]
        when = _year(venue, year)
        if when:
            parts.append(when)
        kinds = [label for label, pattern in _QUALIFIERS if pattern.search(venue)]
        name = " ".join(parts) + (f" ({', '.join(kinds)})" if kinds else "")
    return Venue(name, original if original != name else None, note)


def normalise_venue(text: str | None, year: int | None = None) -> str | None:
    """Just the normalised name: 'Proceedings of the IEEE/CVF Conference on Computer Vision and
    Pattern Recognition', 2024 -> 'CVPR 2024'; an unknown venue as written."""
    return parse_venue(text, year).name
