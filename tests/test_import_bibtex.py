"""Importing BibTeX: messy entries (braces, LaTeX accents, macros, missing fields, duplicates, broken
entries, hostile HTML) import cleanly, each problem named with its line and key."""

from __future__ import annotations

import re
from pathlib import Path

from kg.importers.bibtex import import_bibtex, read_authors, read_entries, split_authors
from kg.report.content import citation_keys
from kg.store import LocalGraph

MESSY = Path(__file__).resolve().parent / "fixtures" / "messy.bib"


def test_messy_entries_import_cleanly():
    result = import_bibtex(MESSY)
    works = {w.ids["cite"]: w for w in result.bundle.works}
    assert set(works) == {"nguyen2024yollava", "mueller2020", "alaluf2024myvlm", "myvlm-eccv", "hostile"}
    yollava = works["nguyen2024yollava"]
    assert yollava.title == "Yo'LLaVA: Your Personalized Language and Vision Assistant"
    assert yollava.ids["arxiv"] == "2406.09400"  # eprint with its version dropped
    assert yollava.venue == "NeurIPS 2024"  # @string macro, normalised ...
    assert yollava.venue_original == "Advances in Neural Information Processing Systems"  # ... the original kept
    assert yollava.authors[0].name == "Thao Nguyen" and len(yollava.authors) == 6 and not yollava.et_al
    mueller = works["mueller2020"]
    assert mueller.title == "Müller's été: naïve ça and Italic GANs — α-tests"
    assert [a.name for a in mueller.authors] == ["Jörg Müller", "Søren Østergaard"]
    assert mueller.et_al  # 'and others' is kept as a marker, not as a person
    assert mueller.ids["doi"] == "10.1234/abc.def" and mueller.year == 2020
    assert mueller.venue == "Journal of Tests" and mueller.venue_original is None
    myvlm = works["alaluf2024myvlm"]
    assert myvlm.ids["arxiv"] == "2403.14599" and myvlm.venue == "arXiv"  # from 'arXiv preprint arXiv:...'
    assert myvlm.venue_original == "arXiv preprint arXiv:2403.14599"
    assert myvlm.abstract == "An abstract the first copy lacks."  # the duplicate key filled the gap
    assert works["myvlm-eccv"].ids["arxiv"] == "2403.14599" and works["myvlm-eccv"].venue == "ECCV 2024"
    assert works["hostile"].title == "Safe Title & more" and works["hostile"].year is None
    problems = [str(p) for p in result.problems]
    assert problems == [
        "line 21 (broken2023): not imported: unbalanced braces: a '{' is never closed",
        "line 27 (notitle): no title; not imported",
        "line 36 (alaluf2024myvlm): duplicate key (first at line 29); merged into it",
        "line 42 (myvlm-eccv): same work as 'alaluf2024myvlm' (line 29, arxiv:2403.14599); they become one node",
        "line 48 (hostile): year 'twenty twenty' is not a year; left out",
    ]
    assert result.entries == 7  # read by bibtexparser: every entry but the broken one


def test_reader_handles_parentheses_quotes_concatenation_and_comments():
    text = """@comment{ignored @article{x, title={no}} }
@String(pre = "Proc. of ")
@Article(paren2020,
  Title = "Quoted {with} {"}braces{"}",
  booktitle = pre # "KDD",
  Year = 2020
)
Some prose between entries is a comment too.
@misc{missingcomma title = {x}}
@misc{after, title = {Still read}}
"""
    entries, problems = read_entries(text)
    assert [(e.kind, e.key, e.line) for e in entries] == [("article", "paren2020", 3), ("misc", "after", 10)]
    assert entries[0].fields["booktitle"] == "Proc. of KDD"
    assert entries[0].fields["year"] == "2020"
    assert [str(p) for p in problems] == [("line 9 (missingcomma): not imported: expected ',' after the key "
                                           "'missingcomma'")]


def test_broken_entries_are_named_by_line_and_key_and_the_rest_import(tmp_path):
    bib = tmp_path / "broken.bib"
    bib.write_text("""@article{ok1, title = {First}, year = 2020}
@article{gap, title = {No comma} year = 2021}
@article{, title = {No key}}
@misc{quote, title = "never closed}
@article{ok2, title = {Second}, booktitle = cvpr, year = 2022}
@inproceedings{unclosed, title = {Open {brace}, year = 2023
@article{ok3,
  title = {Third},
}
""", encoding="utf-8")
    result = import_bibtex(bib)
    assert [w.ids["cite"] for w in result.bundle.works] == ["ok1", "ok2", "ok3"]
    assert [str(p) for p in result.problems] == [
        "line 2 (gap): not imported: a ',' is missing before the field 'year'",
        "line 3: not imported: no citation key",
        'line 4 (quote): not imported: a quoted value is never closed with "',
        "line 5 (ok2): @string macro 'cvpr' is not defined; kept as the text 'cvpr'",
        "line 6 (unclosed): not imported: unbalanced braces: a '{' is never closed",
    ]
    ok2 = result.bundle.works[1]
    assert ok2.venue == "CVPR 2022" and ok2.venue_original == "cvpr"  # the undefined macro's name, normalised


def test_latex_accents_become_unicode(tmp_path):
    bib = tmp_path / "accents.bib"
    bib.write_text(r"""@article{accents,
  title = {Stra{\ss}e, caf\'{e}, {\"u}ber, na{\"\i}ve, fa{\c{c}}ade, {\AA}ngstr{\"o}m, {\L}{\'o}d{\'z}},
  author = {G{\"o}del, Kurt and Erd{\H{o}}s, P{\'a}l and Sch{\"o}lkopf, Bernhard and {\O}rsted, Hans},
  journal = {Zeitschrift f{\"u}r Tests},
  year = {1931}
}
""", encoding="utf-8")
    [work] = import_bibtex(bib).bundle.works
    assert work.title == "Straße, café, über, naïve, façade, Ångström, Łódź"
    assert [a.name for a in work.authors] == ["Kurt Gödel", "Pál Erdős", "Bernhard Schölkopf", "Hans Ørsted"]
    assert work.venue == "Zeitschrift für Tests"


def test_non_utf8_files_are_read_with_a_note(tmp_path):
    bib = tmp_path / "cp1252.bib"
    bib.write_bytes("@misc{first, title={Plain}}\n@misc{cafe, title={Caf\xe9 \u2014 na\xefve}, author={M\xfcller, J}}\n"
                    .encode("cp1252"))
    result = import_bibtex(bib)
    works = {w.ids["cite"]: w for w in result.bundle.works}
    assert works["cafe"].title == "Café — naïve" and works["cafe"].authors[0].name == "J Müller"
    assert [str(p) for p in result.problems] == [
        "line 2: the file is not UTF-8 (byte 0xe9); read as Windows-1252, check its accented letters"]
    latin = tmp_path / "latin1.bib"  # 0x81 is no Windows-1252 character: Latin-1 reads every byte
    latin.write_bytes(b"@misc{l, title={Caf\xe9 \x81}}\n")
    assert "read as Latin-1" in str(import_bibtex(latin).problems[0])
    bom = tmp_path / "bom.bib"
    bom.write_bytes("\ufeff@misc{b, title={Caf\u00e9}}\n".encode("utf-8"))
    result = import_bibtex(bom)
    assert result.bundle.works[0].title == "Café" and not result.problems


def test_author_names():
    assert split_authors("Lee, Yong Jae and {Barack Obama} and de la Cruz, Ana and Smith, Jr, John") == \
        ["Yong Jae Lee", "Barack Obama", "Ana de la Cruz", "John Smith Jr"]
    assert split_authors("{Research and Development Team} and Others") == ["Research and Development Team"]
    assert read_authors("Khattab, Omar and Zaharia, Matei and others") == (["Omar Khattab", "Matei Zaharia"], True)
    assert read_authors("Khattab, Omar and Zaharia, Matei") == (["Omar Khattab", "Matei Zaharia"], False)


def test_own_citation_keys_are_kept():
    works = [{"work": "w:1", "cite": "khattab2020colbert", "title": "ColBERT: Efficient Passage Search",
              "year": 2020, "authors": ["Omar Khattab"]},
             {"work": "w:2", "cite": "Li et al. (2024c)", "title": "A Multimodal In-Context Tuning Approach",
              "year": 2024, "authors": []},
             {"work": "w:3", "cite": "Nguyen et al. (2024)", "title": "Yo'LLaVA", "year": 2024, "authors": []},
             {"work": "w:4", "cite": "DBLP:conf/sigir/KhattabZ20", "title": "Another", "year": 2020, "authors": []},
             {"work": "w:5", "cite": "khattab2020COLBERT", "title": "ColBERT again", "year": 2020,
              "authors": ["Omar Khattab"]}]
    keys = citation_keys(works, {"w:3": ["nguyen2024yollava"]})
    assert keys["w:1"] == "khattab2020colbert"  # not khattab2020colbert2020colbert
    assert keys["w:2"] == "li2024multimodal"  # the survey's citation: a key of its own, as before
    assert keys["w:3"] == "nguyen2024yollava"  # the .bib key beside the survey's citation
    assert keys["w:4"] == "DBLP:conf/sigir/KhattabZ20"
    assert keys["w:5"] == "khattab2020colberta"  # the same key but for case clashes in BibTeX: a made one


def test_cli_import_into_the_graph_and_reimport_replaces(store_copy, kg):
    first = kg("import", "bibtex", str(MESSY), store=store_copy)
    assert first.exit_code == 0, first.output + first.message
    assert "imported 5 paper(s)" in first.output
    assert "line 21 (broken2023)" in first.output  # the broken entry is named; the rest is imported
    again = kg("import", "bibtex", str(MESSY), store=store_copy)
    assert again.exit_code == 0
    graph = LocalGraph(store_copy)
    count = graph.query("SELECT (COUNT(?w) AS ?n) WHERE { ?w a fabio:ScholarlyWork }", trusted=True).records()
    assert count[0]["n"] == 49 + 2  # MüllerEtAl and the hostile entry are new; the rest merge into nodes
    myvlm = graph.query('SELECT ?w WHERE { ?w kg:arxivId "2403.14599" }', trusted=True).records()
    assert len(myvlm) == 1  # two .bib entries and the bundled corpus: one node
    hostile = graph.query('SELECT ?t WHERE { ?w kg:citationKey "hostile" ; dcterms:title ?t }',
                          trusted=True).records()
    assert hostile == [{"t": "Safe Title & more"}]


def test_cli_bad_files(tmp_path, kg):
    broken = tmp_path / "broken.bib"
    broken.write_text("@article{only, title = {never closed\n", encoding="utf-8")
    result = kg("import", "bibtex", str(broken), store=tmp_path / "store")
    assert result.exit_code == 1
    assert "no entries could be imported" in result.message and "line 1 (only)" in result.message
    assert not (tmp_path / "store" / "records").exists() or not list((tmp_path / "store" / "records").glob("*.jsonl"))
    latin = tmp_path / "latin1.bib"
    latin.write_bytes("@misc{l, title={Caf\xe9 au lait and personalization models}, year={2021}}".encode("latin-1"))
    ok = kg("import", "bibtex", str(latin), store=tmp_path / "store")
    assert ok.exit_code == 0, ok.message


# ---------------------------------------------------------------- a survey's own bibliography, round trip
SURVEY_BIB = r"""% The survey's own bibliography (keys as its \cite-s use them)
@misc{li2024modict,
  title = {A Multimodal In-Context Tuning Approach for {E}-Commerce Product Description Generation},
  author = {Li, Yunxin and Hu, Baotian and Luo, Wenhan and Ma, Lin and Ding, Yuxin and Zhang, Min},
  year = {2024},
  eprint = {2402.13587},
  archiveprefix = {arXiv}
}

@inproceedings{agrawal2023comic,
  title = {Multimodal Persona Based Generation of Comic Dialogs},
  author = {Agrawal, Harsh and Mishra, Aditya and Gupta, Manish and {Mausam}},
  booktitle = {Proceedings of the 61st Annual Meeting of the Association for Computational Linguistics (Volume 1: Long Papers)},
  year = {2023}
}

@inproceedings{jang2024identity,
  title = {Identity Decoupling for Multi-Subject Personalization of Text-to-Image Models},
  author = {Jang, Sangwon and Jo, Jaehyeong and Lee, Kimin and Hwang, Sung Ju},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2024},
  eprint = {2404.04243},
  archiveprefix = {arXiv}
}

@article{patel2024lambda,
  title = {$\lambda$-{ECLIPSE}: Multi-Concept Personalized Text-to-Image Diffusion Models by Leveraging {CLIP} Latent Space},
  author = {Patel, Maitreya and Jung, Sangmin and Baral, Chitta and Yang, Yezhou},
  journal = {Transactions on Machine Learning Research},
  year = {2024},
  eprint = {2402.05195},
  archiveprefix = {arXiv}
}

@inproceedings{DBLP:conf/www/ShenPMG24,
  title = {{PMG}: Personalized Multimodal Generation with Large Language Models},
  author = {Shen, Xiaoteng and Zhang, Rui and Zhao, Xiaoyan and Zhu, Jieming and Xiao, Xi},
  booktitle = {Proceedings of the ACM Web Conference 2024},
  year = {2024},
  doi = {10.48550/arXiv.2404.08677},
  eprint = {2404.08677},
  archiveprefix = {arXiv}
}

@inproceedings{zhang2024gpt4rec,
  title = {{GPT4Rec}: Graph Prompt Tuning for Streaming Recommendation},
  author = {Zhang, Peiyan and Yan, Yuchen and Zhang, Xi and Kang, Liying and Li, Chaozhuo and Huang, Feiran
            and Wang, Senzhang and Kim, Sunghun},
  booktitle = {Proceedings of the 47th International ACM SIGIR Conference on Research and Development in Information Retrieval},
  year = {2024},
  eprint = {2406.08229},
  archiveprefix = {arXiv},
  url = {https://arxiv.org/abs/2406.08229}
}

@inproceedings{nguyen2024yollava,
  title = {{Yo'LLaVA}: Your Personalized Language and Vision Assistant},
  author = {Nguyen, Thao and Liu, Haotian and Li, Yuheng and others},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2024},
  eprint = {2406.09400},
  archiveprefix = {arXiv}
}
"""
VENUE_FIELDS = ("booktitle", "journal")
KG_FIELDS = ("keywords", "note")  # what the export adds: the work's cells and its kg IRI


def test_survey_bib_round_trips_with_its_keys(store_copy, tmp_path, kg):
    import bibtexparser

    from kg.importers.bibtex import latex_text

    bib = tmp_path / "survey.bib"
    bib.write_text(SURVEY_BIB, encoding="utf-8")
    imported = kg("import", "bibtex", str(bib), store=store_copy)
    assert imported.exit_code == 0, imported.output + imported.message
    assert "imported 7 paper(s)" in imported.output and "0 new to the graph" in imported.output
    exported = kg("report", "--format", "bib", "--output", "-", store=store_copy)
    assert exported.exit_code == 0, exported.output
    ours = {e["ID"]: e for e in bibtexparser.loads(SURVEY_BIB).entries}
    theirs = {e["ID"]: e for e in bibtexparser.loads(exported.output).entries}
    assert set(ours) <= set(theirs)  # every key of the survey's .bib, as written
    assert not any(k.startswith(("li2024multimodal", "nguyen2024llava", "jang2024identity2024")) for k in theirs)
    for key, orig in ours.items():
        back = theirs[key]
        assert back["ENTRYTYPE"] == orig["ENTRYTYPE"], key
        assert set(orig) <= set(back) and set(back) - set(orig) <= {*KG_FIELDS, "url"}, (key, set(orig) ^ set(back))
        if "url" in set(back) - set(orig):  # the only link kg adds: the arXiv page
            assert back["url"] == f"https://arxiv.org/abs/{orig['eprint']}", key
        for name in set(orig) - {"ID", "ENTRYTYPE", "author", *VENUE_FIELDS}:
            assert latex_text(back[name]).lower() == latex_text(orig[name]).lower(), (key, name)
        assert read_authors(back["author"]) == read_authors(orig["author"]), key
    # venues come back normalised (the bundled corpus's own spelling wins where it has one) ...
    assert theirs["agrawal2023comic"]["booktitle"] == "ACL 2023 (long)"
    assert theirs["jang2024identity"]["booktitle"] == "NeurIPS 2024"
    assert theirs["DBLP:conf/www/ShenPMG24"]["booktitle"] == "WWW 2024"
    assert theirs["patel2024lambda"]["journal"] == "TMLR"
    # ... and never with a curation remark in them
    assert theirs["zhang2024gpt4rec"]["booktitle"] == "SIGIR 2024"
    assert not any(word in exported.output for word in ("(per ", "liner", "unverified", "submitted to"))
    # "and others" goes out as it came in
    assert theirs["nguyen2024yollava"]["author"] == "Thao Nguyen and Haotian Liu and Yuheng Li and others"
    # the LaTeX report's \cite and \bibitem keys are the same keys
    tex = kg("report", "--format", "tex", "--output", "-", store=store_copy).output
    cited = {k for group in re.findall(r"\\cite\{([^}]*)\}", tex) for k in group.split(",")}
    items = set(re.findall(r"\\bibitem\{([^}]*)\}", tex))
    assert set(ours) <= cited and cited <= items == set(theirs)
    table = kg("report", "--format", "tex-table", "--output", "-", store=store_copy).output
    assert r"\cite{zhang2024gpt4rec}" in table and r"\cite{DBLP:conf/www/ShenPMG24}" in table
