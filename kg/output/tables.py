"""The command line's tables: fitted to the terminal, plain aligned text when piped.

On a terminal a table keeps to the window's width (80 columns is the design case): the title
on one line, cut with "…" if it must be; identifiers, numbers and other short values whole;
long text (titles, labels, descriptions) cut with "…" on one line, never wrapped onto
several. A table whose whole columns alone are wider than the window is split into parts
that repeat its key columns (`keys`), or, without keys, cut everywhere with a note saying so.

When the output is not a terminal (a pipe, a file, a test runner) nothing is cut: the title
on its own line, then the header and rows with the columns aligned by spaces, so `grep`,
`sort`, `cut -c` and `less -S` see every value whole, whatever COLUMNS says.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

SEP = 2  # characters between two columns (SIMPLE_HEAD's blank divider plus collapsed padding)
MIN_CUT = 8  # the narrowest a cut column gets
SHORT = 12  # a column this narrow is kept whole even if its values have spaces
WHOLE_ID = 40  # a column of single words (ids, IRIs, notations) this narrow is kept whole
PLAIN_GAP = "  "


def new_table(title: str | None = None, **kwargs) -> Table:
    """A Table in the command line's style (header rule, no frame, two spaces between columns)."""
    options = dict(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                   collapse_padding=True, header_style="bold")
    options.update(kwargs)
    return Table(**options)


def plain(cell) -> str:
    """A cell as the text it shows (markup resolved, one line)."""
    if isinstance(cell, Text):
        text = cell.plain
    elif isinstance(cell, str):
        text = Text.from_markup(cell).plain
    else:
        text = str(cell)
    return " ".join(text.split()) if ("\n" in text or "\t" in text) else text


def _cells(table: Table) -> list[list[str]]:
    return [[plain(c) for c in column.cells] for column in table.columns]


def plain_text(table: Table) -> str:
    """The table as aligned plain text, nothing cut: title, header, rows."""
    columns = _cells(table)
    headers = [plain(c.header) for c in table.columns]
    widths = [max([cell_len(h)] + [cell_len(v) for v in cells]) for h, cells in zip(headers, columns)]
    right = [c.justify == "right" for c in table.columns]

    def line(values: list[str]) -> str:
        parts = []
        for i, (value, width) in enumerate(zip(values, widths)):
            pad = " " * (width - cell_len(value))
            parts.append(pad + value if right[i] else (value + pad if i < len(values) - 1 else value))
        return PLAIN_GAP.join(parts).rstrip()

    lines = [plain(table.title)] if table.title else []
    if table.show_header:
        lines.append(line(headers))
    lines += [line([cells[r] for cells in columns]) for r in range(table.row_count)]
    return "\n".join(lines) + "\n"


def _natural(table: Table) -> list[int]:
    return [max([cell_len(plain(col.header))] + [cell_len(v) for v in cells])
            for col, cells in zip(table.columns, _cells(table))]


def _kept_whole(cells: list[str], width: int) -> bool:
    """Short columns, and columns of single words (ids, IRIs, notations) up to WHOLE_ID."""
    if width <= SHORT:
        return True
    return width <= WHOLE_ID and not any(" " in v for v in cells)


def _share(room: int, wants: list[int], floors: list[int]) -> list[int]:
    """Each column its floor, then what is left shared out by water-filling: a column gets
    what it still wants or an equal share of the rest, whichever is less."""
    given = [min(w, f) for w, f in zip(wants, floors)]
    left = room - sum(given)
    todo = sorted(range(len(wants)), key=lambda i: wants[i] - given[i])
    while todo and left > 0:
        fair = left // len(todo)
        i = todo.pop(0)
        extra = min(wants[i] - given[i], fair)
        given[i] += extra
        left -= extra
    return given


def fit(table: Table, width: int, *, whole: Iterable[str] = (), cut: Iterable[str] = (),
        wrap: Iterable[str] = ()) -> bool:
    """Set the columns' widths so the table keeps to `width`. Returns False when the whole
    columns alone do not fit (every column is then set to be cut)."""
    whole, cut, wrap = set(whole), set(cut), set(wrap)
    natural = _natural(table)
    cells = _cells(table)
    names = [plain(c.header) for c in table.columns]
    keep = [n in whole or (n not in cut and n not in wrap and _kept_whole(v, w))
            for n, v, w in zip(names, cells, natural)]
    room = width - SEP * (len(natural) - 1)
    flexible = [i for i, k in enumerate(keep) if not k]
    fixed = sum(w for w, k in zip(natural, keep) if k)
    # a wrapped column is not narrower than its longest word, a cut one than MIN_CUT
    floors = [min(natural[i], max([MIN_CUT] + [cell_len(word) for v in cells[i] for word in v.split()])
                  if names[i] in wrap else MIN_CUT) for i in range(len(natural))]
    fits = fixed + sum(floors[i] for i in flexible) <= room
    if not fits:  # even the whole columns are too wide: cut them all, evenly
        flexible, fixed, floors = list(range(len(natural))), 0, [1] * len(natural)
    shares = _share(room - fixed, [natural[i] for i in flexible], [floors[i] for i in flexible])
    allotted = dict(zip(flexible, shares))
    for i, column in enumerate(table.columns):
        if i in allotted:
            column.max_width = max(1, allotted[i])
            if names[i] in wrap and fits:
                column.no_wrap, column.overflow = False, "fold"
            else:
                column.no_wrap, column.overflow = True, "ellipsis"
        else:
            column.no_wrap, column.min_width = True, natural[i]
    return fits


def _split(table: Table, width: int, keys: int) -> list[Table]:
    """Parts of a wide table, each with the first `keys` columns and as many others as fit."""
    natural = _natural(table)
    base = sum(natural[:keys]) + SEP * keys
    parts, current, used = [], [], base
    for i in range(keys, len(natural)):
        need = natural[i] + (SEP if current else 0)
        if current and used + need > width:
            parts.append(current)
            current, used = [], base
            need = natural[i]
        current.append(i)
        used += need
    if current:
        parts.append(current)
    if len(parts) <= 1:
        return [table]
    columns, cells = table.columns, _cells(table)
    out = []
    for n, part in enumerate(parts):
        title = table.title if n == 0 else None
        sub = new_table(title, show_header=table.show_header)
        for i in list(range(keys)) + part:
            sub.add_column(columns[i].header, justify=columns[i].justify)
        for r in range(table.row_count):
            sub.add_row(*[Text(cells[i][r], style=_style(columns[i], r)) for i in list(range(keys)) + part])
        out.append(sub)
    return out


def _style(column, row: int) -> str:
    cell = list(column.cells)[row]
    if isinstance(cell, Text):
        return str(cell.style or "")
    if isinstance(cell, str):
        spans = Text.from_markup(cell).spans
        return str(spans[0].style) if spans else ""
    return ""


def records_text(table: Table, width: int) -> Text:
    """A table too wide for the terminal as one block per row: "column  value" lines, each
    value on one line (cut with "…" if it must be), empty values left out."""
    names = [plain(c.header) for c in table.columns]
    columns = _cells(table)
    label = max(cell_len(n) for n in names)
    room = max(8, width - label - len(PLAIN_GAP))
    out = Text()
    for r in range(table.row_count):
        out.append(f"── {r + 1} " + "─" * max(0, min(width, 40) - len(str(r + 1)) - 4) + "\n", style="dim")
        for name, cells in zip(names, columns):
            if not cells[r]:
                continue
            value = Text(cells[r])
            value.truncate(room, overflow="ellipsis")
            out.append(name.ljust(label) + PLAIN_GAP, style="bold")
            out.append_text(value)
            out.append("\n")
    out.rstrip()
    return out


def emit(console: Console, table: Table, *, whole: Iterable[str] = (), cut: Iterable[str] = (),
         wrap: Iterable[str] = (), keys: int = 0) -> None:
    """Print a table: fitted on a terminal, plain and whole otherwise (see the module doc).

    whole / cut / wrap name columns to keep whole, cut with "…", or wrap (descriptions);
    other columns are judged by their values. keys: leading columns to repeat when a table
    with many short columns (years, modalities) is split to fit; a table without keys whose
    whole columns do not fit is shown one block per row."""
    if not console.is_terminal:
        console.file.write(plain_text(table))
        console.file.flush()
        return
    width = console.width
    tables = _split(table, width, keys) if keys else [table]
    for part in tables:
        title = part.title
        part.title = None
        if title:
            text = Text(plain(title), style="bold")
            text.truncate(width, overflow="ellipsis")
            console.print(text, soft_wrap=False, highlight=False)
        if fit(part, width, whole=whole, cut=cut, wrap=wrap) or keys:
            console.print(part, soft_wrap=False, crop=True)
        else:
            console.print(records_text(part, width), soft_wrap=False, crop=True, highlight=False)
