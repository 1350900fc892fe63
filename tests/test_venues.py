"""Venue names: common spellings normalised (the original kept), remarks split off into a note;
the bundled corpus keeps curation remarks out of its venues."""

from __future__ import annotations

import pytest
import yaml

from kg.paths import corpus_dir
from kg.records import Work, from_dict
from kg.records.venues import Venue, normalise_venue, parse_venue, split_note


@pytest.mark.parametrize(("text", "year", "name"), [
    ("Advances in Neural Information Processing Systems", 2024, "NeurIPS 2024"),
    ("Advances in Neural Information Processing Systems 36", None, "NeurIPS"),
    ("NIPS", 2017, "NeurIPS 2017"),
    ("NeurIPS'23", None, "NeurIPS 2023"),
    ("Thirty-seventh Conference on Neural Information Processing Systems", 2023, "NeurIPS 2023"),
    ("Advances in Neural Information Processing Systems (Datasets and Benchmarks Track)", 2023,
     "NeurIPS 2023 (Datasets and Benchmarks)"),
    ("International Conference on Machine Learning", 2023, "ICML 2023"),
    ("Proceedings of the 40th International Conference on Machine Learning", 2023, "ICML 2023"),
    ("The Twelfth International Conference on Learning Representations", 2024, "ICLR 2024"),
    ("ICLR", 2025, "ICLR 2025"),
    ("Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition", 2024, "CVPR 2024"),
    ("Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)", 2024, "CVPR 2024"),
    ("IEEE Conference on Computer Vision and Pattern Recognition", 2016, "CVPR 2016"),
    ("Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition Workshops", 2024,
     "CVPR 2024 (Workshops)"),
    ("Proceedings of the IEEE/CVF International Conference on Computer Vision", 2023, "ICCV 2023"),
    ("European Conference on Computer Vision", 2024, "ECCV 2024"),
    ("Computer Vision -- ECCV 2022", None, "ECCV 2022"),
    (("Proceedings of the 61st Annual Meeting of the Association for Computational Linguistics "
      "(Volume 1: Long Papers)"), 2023, "ACL 2023 (long)"),
    (("Proceedings of the 62nd Annual Meeting of the Association for Computational Linguistics "
      "(Volume 2: Short Papers)"), 2024, "ACL 2024 (short)"),
    ("Findings of the Association for Computational Linguistics: EMNLP 2023", None, "EMNLP 2023 (Findings)"),
    ("Findings of the Association for Computational Linguistics: ACL 2024", None, "ACL 2024 (Findings)"),
    ("Findings of the Association for Computational Linguistics: NAACL 2024", None, "NAACL 2024 (Findings)"),
    ("Proceedings of the 2023 Conference on Empirical Methods in Natural Language Processing", None, "EMNLP 2023"),
    (("Proceedings of the 2024 Conference of the North American Chapter of the Association for Computational "
      "Linguistics: Human Language Technologies (Volume 1: Long Papers)"), None, "NAACL 2024 (long)"),
    ("Proceedings of the AAAI Conference on Artificial Intelligence", 2024, "AAAI 2024"),
    ("Proceedings of the 29th ACM SIGKDD Conference on Knowledge Discovery and Data Mining", 2023, "KDD 2023"),
    ("KDD '24", None, "KDD 2024"),
    (("Proceedings of the 47th International ACM SIGIR Conference on Research and Development in Information "
      "Retrieval"), 2024, "SIGIR 2024"),
    ("Proceedings of the ACM Web Conference 2024", None, "WWW 2024"),
    ("Companion Proceedings of the ACM Web Conference 2024", None, "WWW 2024 (Companion)"),
    ("TheWebConf", 2025, "WWW 2025"),
    ("arXiv preprint arXiv:2403.14599", 2024, "arXiv"),
    ("CoRR", 2020, "arXiv"),
    ("CoRR abs/2012.01234", None, "arXiv"),
    ("ArXiv", None, "arXiv"),
])
def test_common_spellings_are_normalised(text, year, name):
    venue = parse_venue(text, year)
    assert venue.name == name
    assert venue.original == text  # what the source wrote is kept
    assert venue.note is None


@pytest.mark.parametrize("text", [
    "Transactions of the Association for Computational Linguistics",  # TACL, a journal: not ACL
    "International Conference on Machine Learning and Applications",  # ICMLA, not ICML
    "Pacific-Asia Conference on Knowledge Discovery and Data Mining",  # PAKDD, not KDD
    "Proceedings of the IEEE/CVF Winter Conference on Applications of Computer Vision",  # WACV
    "AAAI/ACM Conference on AI, Ethics, and Society",
    "NeurIPS 2023 Workshop on Instruction Tuning and Instruction Following",  # a workshop, not NeurIPS itself
    "Journal of Tests",
    "bioRxiv",
])
def test_other_venues_are_kept_as_written(text):
    assert parse_venue(text, 2023) == Venue(text)


@pytest.mark.parametrize("name", ["NeurIPS 2024", "ACL 2023 (long)", "EMNLP 2023 (Findings)", "CVPR 2024 (Workshops)",
                                  "WWW 2024 (Companion)", "arXiv", "ICMR 2024 (short paper)", "TMLR"])
def test_normalising_is_idempotent(name):
    assert normalise_venue(name) == name
    assert parse_venue(name) == Venue(name)


def test_remarks_are_split_off_into_a_note():
    assert parse_venue("SIGIR 2024 (per liner review page)") == \
        Venue("SIGIR 2024", "SIGIR 2024 (per liner review page)", "per liner review page")
    assert split_note("CVPR 2024 (unverified)") == ("CVPR 2024", "unverified")
    assert split_note("ACM TKDD 18(9) (journal version)") == ("ACM TKDD 18(9)", "journal version")
    assert split_note("ACL 2024 (Volume 1: Long Papers)") == ("ACL 2024 (Volume 1: Long Papers)", None)
    likely = parse_venue("likely ECCV 2024 (ECCV template on arxiv-vanity copy; unverified)")
    assert likely.name == "ECCV 2024" and likely.note == "likely; ECCV template on arxiv-vanity copy; unverified"
    # a submission names no venue at all: everything is the note
    assert parse_venue("submitted to ICRA 2025 (project page)") == \
        Venue(None, "submitted to ICRA 2025 (project page)", "submitted to ICRA 2025 (project page)")
    assert parse_venue(None) == parse_venue("  ") == Venue(None)


def test_bundled_corpus_keeps_remarks_out_of_venues():
    remark = ("per ", "unverified", "liner", "likely", "submitted", "openreview", "journal version", "(project")
    for path in sorted(corpus_dir().glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in (doc.get("works") or []) + (doc.get("papers") or []):
            venue = str(entry.get("venue") or "")
            assert not any(word in venue.lower() for word in remark), (path.name, venue)
            assert split_note(venue)[1] is None, (path.name, venue)
    works = {w["cite"]: w for w in yaml.safe_load((corpus_dir() / "survey.yaml").read_text(encoding="utf-8"))["works"]}
    assert works["Zhang et al. (2024)"]["venue"] == "SIGIR 2024"
    assert works["Zhang et al. (2024)"]["note"] == "venue per liner review page"
    assert "venue" not in works["Chen et al. (2024c)"] and "ICRA 2025" in works["Chen et al. (2024c)"]["note"]


def test_work_records_carry_note_original_venue_and_et_al():
    work = from_dict(Work, {"ids": {"cite": "k"}, "sources": ["s"], "venue": "NeurIPS 2024",
                            "venue_original": "Advances in Neural Information Processing Systems",
                            "note": "per the proceedings page", "et_al": True})
    assert (work.venue_original, work.note, work.et_al) == \
        ("Advances in Neural Information Processing Systems", "per the proceedings page", True)
    with pytest.raises(ValueError, match="'note' must be text"):
        from_dict(Work, {"ids": {}, "sources": [], "note": ["a list"]})
    with pytest.raises(ValueError, match="'et_al' must be true or false"):
        from_dict(Work, {"ids": {}, "sources": [], "et_al": "yes"})
