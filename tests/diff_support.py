"""Two versions of a small awesome list, imported one after the other with a snapshot between:
the changes kg diff and the app's What's new page must report."""

from __future__ import annotations

LIST = """# Awesome test list

| Title | Venue | Year | Input | Output | Link |
|---|---|---|---|---|---|
{rows}
"""
ROW = "| {title} | NeurIPS | 2025 | {input} | text | [arXiv](https://arxiv.org/abs/{id}) |"

V1 = [("Lasting Personal Memory for Assistants", "image", "2501.10001"),
      ("A Paper That Will Be Dropped", "text", "2501.10002"),
      ("Old Name of a Renamed Paper", "text", "2501.10003")]
V2 = [("Lasting Personal Memory for Assistants", "video", "2501.10001"),  # reclassified: image -> video
      ("New Name of a Renamed Paper", "text", "2501.10003"),  # renamed
      ("A Brand New Personalized Video Agent", "video", "2501.10004")]  # added; 2501.10002 removed


def write_list(path, entries):
    path.write_text(LIST.format(rows="\n".join(ROW.format(title=t, input=i, id=a) for t, i, a in entries)),
                    encoding="utf-8")


def make_changed_store(store_copy, tmp_path, kg):
    """The bundled store with v1 of a list imported and snapshotted, then v2 imported and the new
    paper placed by a person."""
    readme = tmp_path / "awesome.md"
    write_list(readme, V1)
    assert kg("import", "awesome", readme, "--source-id", "mylist", store=store_copy).exit_code == 0
    assert kg("snapshot", "create", "v1", store=store_copy).exit_code == 0
    write_list(readme, V2)
    assert kg("import", "awesome", readme, "--source-id", "mylist", store=store_copy).exit_code == 0
    placed = kg("curate", "2501.10004", "--category", "retrieval", "--mechanism", "alignment", store=store_copy)
    assert placed.exit_code == 0, placed.output
    return store_copy
