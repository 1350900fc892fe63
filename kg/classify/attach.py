"""Label-only records (predictions, curation) attach to works; they never create one.

The classifier's record file and the curation file hold records that only add
labels (and dataset mentions) to works known from the corpus or from harvests.
If such a work has gone (a harvest file was removed, a corpus entry renamed),
its labels are set aside with a warning instead of minting a work that has
nothing but labels. The files themselves are left as they are.
"""

from __future__ import annotations

from itertools import chain

from ..records.labels import CURATION_PREFIX, PREDICTION_PREFIX
from ..records import Bundle
from ..records.resolve import keys_of, ref_key

_LABEL_ONLY = (CURATION_PREFIX, PREDICTION_PREFIX)


def is_label_only(sources: list[str]) -> bool:
    return bool(sources) and all(s.startswith(_LABEL_ONLY) for s in sources)


def attach_label_records(bundle: Bundle) -> list[str]:
    """Drop label-only works and dataset links that match no other record; return warnings."""
    if not any(is_label_only(r.sources) for r in chain(bundle.works, bundle.datasets)):
        return []  # nothing that only labels: nothing to check
    known: set[str] = set()
    for work in bundle.works:
        if not is_label_only(work.sources):
            for key in keys_of(work):
                known.add(key)
                if key.startswith("title:") and "|" in key:
                    known.add(key.split("|")[0])
    warnings = []
    kept = []
    for work in bundle.works:
        if is_label_only(work.sources) and not any(k in known for k in keys_of(work)):
            name = work.title or next(iter(work.ids.values()), "?")
            warnings.append(f"{', '.join(work.sources)}: labels for {name!r} match no work in the graph; not applied")
            continue
        kept.append(work)
    bundle.works = kept
    for ds in bundle.datasets:
        if is_label_only(ds.sources):
            ds.used_by = [ref for ref in ds.used_by if ref_key(ref) in known]
            ds.introduced_by = [ref for ref in ds.introduced_by if ref_key(ref) in known]
    return warnings
