from kg.records import ids


def test_arxiv_ids():
    assert ids.arxiv_id("arXiv:2402.13587v2") == "2402.13587"
    assert ids.arxiv_id("https://arxiv.org/abs/2406.09400") == "2406.09400"
    assert ids.arxiv_id("https://arxiv.org/html/2410.13360v1") == "2410.13360"
    assert ids.arxiv_id("https://arxiv.org/pdf/2410.13360v1.pdf") == "2410.13360"
    assert ids.arxiv_id("astro-ph/0601001v1") == "astro-ph/0601001"
    assert ids.arxiv_id("http://arxiv.org/abs/quant-ph/0201082v1") == "quant-ph/0201082"
    assert ids.arxiv_id("abc") is None


def test_doi_is_case_insensitive():
    assert ids.doi("https://doi.org/10.18653/V1/2024.ACL-LONG.399") == "10.18653/v1/2024.acl-long.399"
    assert ids.doi("doi:10.1145/3580305.3599256") == "10.1145/3580305.3599256"
    assert ids.doi("not a doi") is None


def test_parse_any_and_titles():
    assert ids.parse_any("W2741809807") == ("openalex", "W2741809807")
    assert ids.parse_any("649def34f8be52c8b66281af98ae884c09aef38b") == ("s2", "649def34f8be52c8b66281af98ae884c09aef38b")
    assert ids.parse_any("CorpusId:215416146") == ("corpus", "215416146")
    assert ids.normalise_title("Yo’LLaVA: Your  Personalized — Assistant!") == "yo llava your personalized assistant"
