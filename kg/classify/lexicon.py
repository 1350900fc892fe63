"""The transparent layer: which taxonomy labels occur in a paper's text.

Terms come only from data: the SKOS labels (prefLabel, altLabel, hiddenLabel)
of the project's taxonomy (the bundled survey's: ontology/taxonomy.ttl), read with
kg.rdf.taxonomy.read_taxonomy, and the names
of the graph's datasets. Matching is greedy left to right, longest term first,
separately per axis, so "personalized text-to-image generation" fires that
one label rather than its shorter parts. Every hit says which term fired, on
which words, in which field.

Modalities also get a direction, from the words around them (the role rules
below): "text-to-image" (text in, image out), "generate images from reference
images" (image out, image in), "image captioning" (image in, and captions are
text out), "given 3-5 images of the subject" (image in). A few task words imply
a modality the text may not name: recommenders learn from interaction
histories (user behaviour in), subject-driven generation starts from reference
images of the subject (image in). Such hits are "implied" and name the cue that
fired. A rule speaks only for a modality the taxonomy has (by notation), and only when
the taxonomy names the task it is about: one of its cue phrases occurs in a concept's
label (the bundled taxonomy's "Personalized recommendation", "subject-driven generation"),
so a taxonomy of another field is classified by its own labels alone.

Mechanisms get cues from what a paper says it does to a model (MECHANISM_CUES): "LoRA",
"fine-tune" argue for parameter updates, "training-free", "zero-shot" and a negated update
("without any fine-tuning", "no additional training") against them; "retrieval-augmented",
"synthetic data" for generation; "contrastive", "preference optimization" for alignment;
"prompting", "in-context" for instructions. A negated mechanism label argues against its
concept. The cues speak for the concept whose own labels name their kind ("fine-tuning",
"prompting", "data augmentation", "alignment"), so another taxonomy gets only the kinds it has.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from ..rdf.taxonomy import Taxonomy
from .text import Token, is_case_sensitive, stem, term_tokens

LEXICON_AXES = ("category", "mechanism", "modality", "method")
TITLE_WEIGHT = 1.5  # a term in the title counts more than one in the abstract


@dataclass(frozen=True)
class LexiconTerm:
    """One entry of the lexicon: a concept's label (or a dataset's name), normalised for matching."""

    axis: str  # category | mechanism | modality | method | dataset
    value: str  # the concept's notation (a dataset's name)
    label: str  # the label as written in the data
    norm: tuple[str, ...]
    orig: tuple[str, ...]
    case_sensitive: bool = False

    @property
    def weight(self) -> float:
        """Longer terms are more specific."""
        return 1.0 + 0.5 * (len(self.norm) - 1)


@dataclass(frozen=True)
class Hit:
    axis: str
    value: str
    term: str  # the label that fired
    matched: str  # the words of the text it fired on
    field: str  # title | abstract
    weight: float
    start: int = 0  # token span in the field
    end: int = 0
    role: str = ""  # modality hits: "source" (an input), "target" (an output), "" (not said)
    rule: str = ""  # what gave the role: "x-to-y", "context", "in-term" or "implied"
    cue: str = ""  # the words that gave it, as written ("from", "generation", "Recommendation")

    def to_json(self) -> dict:
        out = {"layer": "lexicon", "axis": self.axis, "label": self.value, "term": self.term,
               "matched": self.matched, "field": self.field}
        if self.role:
            out["role"] = ROLE_NAMES[self.role]
        if self.rule:
            out["rule"] = self.rule
        if self.cue:
            out["cue"] = self.cue
        return out

    def describe(self) -> str:
        """One line of evidence: the words, the field, the term and, for a modality, its direction."""
        if self.rule == "implied":
            return f'"{self.matched}" ({self.field}) implies {self.value} {ROLE_NAMES[self.role]}: {self.term}'
        if self.rule in ("cue", "against"):
            way = "for" if self.rule == "cue" else "against"
            negated = f' (negated by "{self.cue}")' if self.cue else ""
            return f'"{self.matched}" ({self.field}) argues {way} {self.value} ({self.term}){negated}'
        text = f'"{self.matched}" ({self.field}) -> "{self.term}"'
        if self.role:
            text += f' as {ROLE_NAMES[self.role]}' + (f' ("{self.cue}")' if self.cue else "")
        return text


ROLE_NAMES = {"source": "input", "target": "output"}


# ---------------------------------------------------------------- modality roles
# Which way a modality goes (input or output) is said by the words around it. The cue words
# are normalised as the text is (kg.classify.text.stem), so every inflection written here
# matches. They describe how papers phrase inputs and outputs, not one taxonomy: a rule only
# speaks for a modality hit the taxonomy's own labels produced.
def _words(text: str) -> frozenset[str]:
    return frozenset(stem(w.lower()) for w in text.split())


# before a modality: what the work makes ("generate personalized images", "turn sketches into images")
_TARGET_BEFORE = _words(
    "generate generates generating generated produce produces producing produced synthesize synthesizes "
    "synthesizing synthesized synthesise synthesises synthesising synthesised create creates creating created "
    "render renders rendering rendered output outputs outputting into animate animates animating "
    "yield yields yielding build builds building construct constructs constructing "
    "reconstruct reconstructs reconstructing")
# before a modality: what the work reads ("from reference images", "given 3-5 images of", "using click logs")
_SOURCE_BEFORE = _words(
    "from given conditioned conditioning upon using use uses leverage leverages leveraging exploit exploits "
    "exploiting utilize utilizes utilizing utilise utilises utilising incorporate incorporates incorporating "
    "encode encodes encoding ingest ingests ingesting take takes taking understand understands understanding "
    "analyze analyzes analyzing analyse analyses analysing caption captions captioning describe describes "
    "describing watch watches watching listen listens listening perceive perceives perceiving observe observes "
    "observing about provided uploaded supplied reference references input inputs source example examples "
    "exemplar exemplars few handful past historical previous prior mining mine mines")
# right after a modality: a compound naming what is made ("image generation", "speech synthesis")
_TARGET_AFTER = _words(
    "generation generations generator generators synthesis synthesizer synthesiser creation rendering output "
    "outputs production animation reconstruction customization customisation generated synthesized synthesised "
    "produced created rendered")
# right after a modality: a compound naming what is read ("image captioning", "video question answering")
_SOURCE_AFTER = _words(
    "input inputs understanding comprehension captioning question questions recognition encoder encoders "
    "prompt prompts query queries conditioned conditioning condition guided guidance driven based feature "
    "features embedding embeddings provided given uploaded supplied signal signals log logs data")
# a modality changed into itself: both read and made ("image editing", "video stylization")
_BOTH_AFTER = _words("editing edit edits edited stylization stylisation inpainting restoration translation")
_BOTH_BEFORE = _words("edit edits editing edited inpaint inpaints inpainting restyle restyles stylize stylizes")
# inside a modality term: "reference images", "text prompt", "user interaction history"
_SOURCE_INSIDE = _words("reference input prompt query history histories")
_SKIP_AFTER = _words("and or")  # "image and video generation": both are made
# words that end the look back: the modality is not the verb's object ("synthesizes speech for
# arbitrary text": the text is read, not made); "on" stays open for "conditioned on"
_STOP_BEFORE = _words("for with by in at via through without to than that which while whereas but versus")
_LOOK_BEFORE = 6  # tokens scanned back for a verb or preposition ("generates a lip-synced talking head video")
_BARRIER = set(".,;:!?()[]{}")  # punctuation between two words ends a phrase

# Task words that imply a modality the text may not name: (modality, role, why, cue phrases,
# whether a category named by one of the cues implies it too: every work filed under
# recommendation learns from interaction histories, whatever its title says).
IMPLIED: tuple[tuple[str, str, str, tuple[str, ...], bool], ...] = (
    ("user_behavior", "source", "recommenders learn from users' interaction histories",
     ("recommendation", "recommender", "recommender system", "collaborative filtering", "click-through rate",
      "CTR prediction", "next-item prediction", "next item prediction", "next-item recommendation",
      "user modeling", "user modelling", "user interest modeling", "user interests"), True),
    ("image", "source", "subject-driven generation starts from reference images of the subject",
     ("subject-driven", "subject driven", "multi-subject", "subject-specific", "subject customization",
      "subject personalization", "identity-preserving", "identity preserving", "identity preservation",
      "ID-preserving", "multi-concept", "personalized text-to-image", "text-to-image personalization",
      "personalization of text-to-image", "personalizing text-to-image", "customized text-to-image",
      "text-to-image customization", "customizing text-to-image", "virtual try-on"), False),
    ("image", "source", "questions about an image are asked with the image",
     ("visual question answering", "VQA"), False),
    ("text", "target", "captions and answers are text",
     ("captioning", "caption generation", "generates captions", "question answering", "VQA"), False),
)
IMPLIED_WEIGHT = 0.75  # an implied modality counts less than a named one
# a cue read as advice implies nothing ("practical recommendations for practitioners")
_ADVICE_BEFORE = _words("practical design policy actionable concrete clinical general following several some "
                        "these best-practice")
_ADVICE_AFTER = _words("practitioners researchers developers designers policymakers future")


# ---------------------------------------------------------------- mechanism cues
# How a paper says it personalizes, by kind of mechanism: (kind, the labels that name the kind in
# a taxonomy, phrases for it, weaker phrases for it, phrases against it). A kind speaks for the
# mechanism concepts that carry one of its naming labels (prefLabel, altLabel or hiddenLabel, as
# normalised tokens), so it is silent for a taxonomy without such a concept. Every phrase for a
# kind argues against it when negated ("without fine-tuning", "no additional training",
# "tuning-free"), and so does a negated label of a mechanism concept.
MECHANISM_CUES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("parameter updates",
     ("fine-tuning", "fine-tune", "parameter-efficient fine-tuning", "parameter updates"),
     ("fine-tune", "fine-tunes", "fine-tuned", "fine-tuning", "finetune", "finetunes", "finetuned", "finetuning",
      "fine tuning", "LoRA", "low-rank adaptation", "low-rank adapter", "adapter tuning", "adapter", "adapters",
      "parameter-efficient", "PEFT", "instruction tuning", "instruction-tuned", "instruction-tune",
      "prompt tuning", "prefix tuning", "soft prompt tuning", "retrain", "retrained", "retraining",
      "update the weights", "update the parameters", "updating the parameters", "weight updates",
      "parameter updates", "test-time optimization", "per-subject optimization", "per-concept optimization",
      "textual inversion", "DreamBooth", "custom diffusion", "federated learning", "continual learning"),
     ("trained", "training", "self-supervised", "supervised learning", "learnable"),
     ("zero-shot", "training-free", "tuning-free", "finetuning-free", "fine-tuning-free", "optimization-free",
      "off-the-shelf", "plug-and-play", "frozen model", "frozen weights", "at inference time only")),
    ("instructions",
     ("prompting", "prompt-based", "in-context learning", "instruction following", "instruction-following"),
     ("prompt", "prompts", "prompting", "prompted", "in-context", "chain-of-thought", "few-shot prompting",
      "zero-shot prompting", "prompt engineering", "instruction following", "instruction-following",
      "training-free"),
     ("instruction", "instructions", "reflection", "agent", "agents"),
     ()),
    ("generation",
     ("data augmentation", "synthetic data", "data synthesis", "generative augmentation"),
     ("retrieval-augmented", "retrieval augmented", "retrieval-augmented generation", "synthetic data",
      "synthesized data", "data synthesis", "data augmentation", "augmented data", "generated data",
      "generative augmentation", "encoder-based", "feed-forward", "generative recommendation",
      "generative retrieval"),
     ("synthesize", "synthesizes", "synthesized", "synthesizing", "augmentation"),
     ()),
    ("alignment",
     ("alignment", "multimodal alignment", "cross-modal alignment", "representation alignment",
      "preference alignment"),
     ("contrastive", "contrastive learning", "preference optimization", "direct preference optimization",
      "RLHF", "DPO", "reward model", "projector", "projection layer", "embedding space", "latent space",
      "user embedding", "user embeddings", "alignment", "align", "aligns", "aligning", "aligned"),
     ("map", "maps", "mapping", "projects", "project into"),
     ()),
)
CUE_WEIGHT = 1.0  # a phrase for or against a kind
WEAK_CUE_WEIGHT = 0.4  # a common word that leans toward it ("trained", "synthesize")
# words up to _LOOK_NEGATION tokens before a cue that negate it ("without any fine-tuning",
# "does not require additional training", "eliminates the need for fine-tuning")
_NEGATORS = _words("without no not never nor neither avoid avoids avoiding eliminate eliminates eliminating "
                   "bypass bypasses bypassing instead unlike free")
_NEGATED_AFTER = _words("free")  # "tuning-free", "training-free"
_LOOK_NEGATION = 5
# a common word right before one of these names data, not a method ("training data", "synthesized images")
_DATA_AFTER = _words("data dataset datasets set sets sample samples example examples corpus pair pairs image images "
                     "text texts")


@dataclass(frozen=True)
class MechanismCue:
    """A phrase for (sign +1) or against (-1) one kind of mechanism, for one concept (see MECHANISM_CUES)."""

    value: str
    kind: str
    sign: int
    weight: float
    label: str
    norm: tuple[str, ...]
    orig: tuple[str, ...]
    case_sensitive: bool = False


_CUE_GROUP = ("mechanism-cue",)  # the index group of every mechanism cue: the longest one wins


@dataclass(frozen=True)
class Cue:
    """A task phrase that implies a modality in a direction (see IMPLIED)."""

    value: str
    role: str
    why: str
    label: str
    norm: tuple[str, ...]
    orig: tuple[str, ...]
    case_sensitive: bool = False


class Lexicon:
    def __init__(self, terms: list[LexiconTerm], cues: list[Cue] | None = None,
                 category_implies: dict[str, list[Cue]] | None = None,
                 mechanism_cues: list[MechanismCue] | None = None):
        self.terms = terms
        self.cues = list(cues or [])
        self.mechanism_cues = list(mechanism_cues or [])
        # category notation -> the cues its own labels contain (what filing a work there implies)
        self.category_implies = dict(category_implies or {})
        # first token -> axis -> terms, longest first; a task cue's axis is its group
        # ("implied", modality, role, why), so one pass over the tokens finds both
        index: dict[str, dict] = defaultdict(lambda: defaultdict(list))
        for term in terms:
            if term.norm:
                index[term.norm[0]][term.axis].append(term)
        for cue in self.cues:
            index[cue.norm[0]][("implied", cue.value, cue.role, cue.why)].append(cue)
        for mcue in self.mechanism_cues:
            index[mcue.norm[0]][_CUE_GROUP].append(mcue)
        for by_axis in index.values():
            for items in by_axis.values():
                items.sort(key=lambda t: -len(t.norm))
        self._index = {first: dict(by_axis) for first, by_axis in index.items()}

    @classmethod
    def build(cls, taxonomy: Taxonomy, datasets: dict[str, list[str]] | None = None,
              axes: tuple[str, ...] = LEXICON_AXES) -> "Lexicon":
        """Terms from the taxonomy's labels on `axes` and from dataset names and aliases."""
        terms: list[LexiconTerm] = []
        seen: set[tuple] = set()

        def add(axis: str, value: str, label: str, joined: bool = False) -> None:
            norm, orig = term_tokens(label)
            if not norm:
                return
            variants = [(norm, orig)]
            if joined and len(norm) > 1:  # "MC-LLaVA" also as "MCLLaVA"
                variants.append((("".join(norm),), ("".join(orig),)))
            for n, o in variants:
                key = (axis, value, n)
                if key not in seen:
                    seen.add(key)
                    terms.append(LexiconTerm(axis, value, label, n, o, is_case_sensitive(label)))

        for axis in axes:
            for concept in taxonomy.axis(axis):
                for label in [concept.label, *concept.synonyms]:
                    add(axis, concept.notation, label, joined=axis == "method")
        for name, aliases in (datasets or {}).items():
            for label in [name, *aliases]:
                add("dataset", name, label, joined=True)
        cues: list[Cue] = []
        by_category: dict[str, list[Cue]] = {}
        if "modality" in axes:
            modalities = {c.notation for c in taxonomy.axis("modality")}
            named = [term_tokens(label)[0] for concepts in taxonomy.concepts.values()
                     for concept in concepts.values() for label in [concept.label, *concept.synonyms]]
            for value, role, why, phrases, of_category in IMPLIED:
                if value not in modalities:
                    continue
                group = []
                for phrase in phrases:
                    norm, orig = term_tokens(phrase)
                    if norm:
                        group.append(Cue(value, role, why, phrase, norm, orig, is_case_sensitive(phrase)))
                if not any(_contains(n, c.norm) for c in group for n in named):
                    continue  # the taxonomy names no concept of this task: the rule is another field's
                cues += group
                if not of_category:
                    continue
                for concept in taxonomy.axis("category"):
                    labels = [term_tokens(label)[0] for label in [concept.label, *concept.synonyms]]
                    cue = next((c for c in group if any(_contains(n, c.norm) for n in labels)), None)
                    if cue is not None:
                        by_category.setdefault(concept.notation, []).append(cue)
        return cls(terms, cues, by_category, mechanism_cues(taxonomy) if "mechanism" in axes else [])

    def match(self, field: str, toks: list[Token], cleaned: str) -> list[Hit]:
        """Longest, non-overlapping (per axis) term hits in one field's tokens, modalities with
        their direction (roles), and the modalities task words imply (IMPLIED)."""
        hits: list[Hit] = []
        implied: list[Hit] = []
        cued: list[Hit] = []
        free: dict = {}  # axis (or cue group) -> first token index not yet covered
        norms = [t.norm for t in toks]
        boost = TITLE_WEIGHT if field == "title" else 1.0
        for i, tok in enumerate(toks):
            by_axis = self._index.get(tok.norm)
            if not by_axis:
                continue
            for axis, candidates in by_axis.items():
                if free.get(axis, 0) > i:
                    continue
                length = 0
                for term in candidates:
                    n = len(term.norm)
                    if length and n < length:
                        break
                    if tuple(norms[i:i + n]) != term.norm:
                        continue
                    if term.case_sensitive and tuple(t.orig for t in toks[i:i + n]) != term.orig:
                        continue
                    length = n
                    matched = cleaned[tok.start:toks[i + n - 1].end]
                    if isinstance(term, MechanismCue):
                        if term.weight < CUE_WEIGHT and i + n < len(norms) and norms[i + n] in _DATA_AFTER:
                            continue  # "training data": data, not what is done to the model
                        negator = _negator(toks, norms, cleaned, i, i + n)
                        sign = -term.sign if negator else term.sign
                        if sign < 0 or term.sign > 0:  # a negated phrase against a kind argues for nothing
                            cued.append(Hit("mechanism", term.value, term.kind, matched, field, term.weight * boost,
                                            i, i + n, rule="cue" if sign > 0 else "against", cue=negator))
                        continue  # the same phrase may speak for one kind and against another
                    if isinstance(term, Cue):
                        if not _advice(norms, i, i + n):
                            implied.append(Hit("modality", term.value, term.why, matched, field, IMPLIED_WEIGHT * boost,
                                               i, i + n, role=term.role, rule="implied", cue=matched))
                        break
                    hits.append(Hit(axis, term.value, term.label, matched, field, term.weight * boost, i, i + n))
                if length:
                    free[axis] = i + length
        return roles(_negated(hits, toks, norms, cleaned), toks, cleaned, norms) + implied + _cues(cued, hits)


def mechanism_cues(taxonomy: Taxonomy) -> list[MechanismCue]:
    """MECHANISM_CUES for the mechanism concepts of a taxonomy that name their kinds."""
    labels = {c.notation: {term_tokens(label)[0] for label in [c.label, *c.synonyms]}
              for c in taxonomy.axis("mechanism")}
    out: dict[tuple, MechanismCue] = {}
    for kind, names, strong, weak, against in MECHANISM_CUES:
        named = {term_tokens(name)[0] for name in names}
        for value in sorted(v for v, own in labels.items() if own & named):
            for phrases, sign, weight in ((strong, 1, CUE_WEIGHT), (weak, 1, WEAK_CUE_WEIGHT), (against, -1, CUE_WEIGHT)):
                for phrase in phrases:
                    norm, orig = term_tokens(phrase)
                    key = (value, sign, norm, is_case_sensitive(phrase))  # "align", "aligned": one cue
                    if norm and (key not in out or out[key].weight < weight):
                        out[key] = MechanismCue(value, kind, sign, weight, phrase, norm, orig, key[3])
    return list(out.values())


def _negator(toks: list[Token], norms: list[str], cleaned: str, start: int, end: int) -> str:
    """The word that negates the phrase at [start, end), as written, or "": a negator up to
    _LOOK_NEGATION words before it in the same phrase ("without any fine-tuning", "not require
    additional training") or "free" right after it ("tuning-free")."""
    if end < len(norms) and norms[end] in _NEGATED_AFTER and not _barrier(cleaned, toks[end - 1], toks[end]):
        return toks[end].orig
    i = start - 1
    while i >= 0 and start - i <= _LOOK_NEGATION and not _barrier(cleaned, toks[i], toks[i + 1]):
        if norms[i] in _NEGATORS and not (norms[i] == "not" and i + 1 < len(norms) and norms[i + 1] == "only"):
            return toks[i].orig
        i -= 1
    return ""


def _negated(hits: list[Hit], toks: list[Token], norms: list[str], cleaned: str) -> list[Hit]:
    """A negated mechanism label argues against its concept ("without fine-tuning") instead of for it."""
    out = []
    for h in hits:
        negator = _negator(toks, norms, cleaned, h.start, h.end) if h.axis == "mechanism" else ""
        out.append(replace(h, rule="against", cue=negator) if negator else h)
    return out


def _cues(cued: list[Hit], hits: list[Hit]) -> list[Hit]:
    """Cue hits, less those inside a mechanism label the taxonomy matched: its own word decides
    ("Multimodal LLM Adapter" is the bundled alignment label, not "adapter" for parameter updates)
    and counts once. Kept: a cue against another concept ("training-free", an instruction label,
    still argues against parameter updates)."""
    spans = [(h.start, h.end, h.value) for h in hits if h.axis == "mechanism"]
    return [c for c in cued if not any(a <= c.start and c.end <= b and (c.rule == "cue" or v == c.value)
                                       for a, b, v in spans)]


def _advice(norms: list[str], start: int, end: int) -> bool:
    """A cue read as advice: "practical recommendations", "recommendations for practitioners"."""
    if start and norms[start - 1] in _ADVICE_BEFORE:
        return True
    after = norms[end:end + 2]
    return bool(after) and (after[0] in _ADVICE_AFTER or (after[0] == "for" and after[1:] and after[1] in _ADVICE_AFTER))


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    return any(words[i:i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _barrier(cleaned: str, left: Token, right: Token) -> bool:
    """Punctuation between two tokens (a clause or list boundary)."""
    return any(c in _BARRIER for c in cleaned[left.end:right.start])


def roles(hits: list[Hit], toks: list[Token], cleaned: str, norms: list[str] | None = None) -> list[Hit]:
    """Give each modality hit its direction from the words around it.

    In order: "X-to-Y" ("text-to-image": X in, Y out); a cue inside the term ("reference
    images", "text prompt": in); then the nearest cue around it: a compound right after
    ("image generation": out; "image captioning", "video question answering": in; "image
    editing": both) or a verb or preposition up to five words before, within the phrase
    ("generate personalized images": out; "from reference images", "given 3-5 images of":
    in; "edit images": both). A hit read both ways becomes two hits, one per direction.
    """
    mods = sorted((h for h in hits if h.axis == "modality"), key=lambda h: h.start)
    if not mods:
        return hits
    norms = norms if norms is not None else [t.norm for t in toks]
    covered = {i for h in mods for i in range(h.start, h.end)}
    decided: dict[int, tuple[tuple[str, ...], str, str]] = {}  # id(hit) -> (roles, rule, cue words)
    for a, b in zip(mods, mods[1:]):  # "X-to-Y" / "X to Y"
        if b.start == a.end + 1 and a.end < len(norms) and norms[a.end] == "to":
            cue = cleaned[toks[a.start].start:toks[b.end - 1].end]
            decided.setdefault(id(a), (("source",), "x-to-y", cue))
            decided[id(b)] = (("target",), "x-to-y", cue)
    for h in mods:
        if id(h) in decided:
            continue
        inside = [toks[i] for i in range(h.start, h.end) if norms[i] in _SOURCE_INSIDE]
        if inside:
            decided[id(h)] = (("source",), "in-term", inside[0].orig)
            continue
        found = _around(h, toks, norms, cleaned, covered)
        if found:
            decided[id(h)] = found
    out: list[Hit] = []
    for h in hits:
        if id(h) not in decided:
            out.append(h)
            continue
        directions, rule, cue = decided[id(h)]
        out += [replace(h, role=r, rule=rule, cue=cue) for r in directions]
    return out


def _around(h: Hit, toks: list[Token], norms: list[str], cleaned: str, covered: set[int]):
    """The nearest cue after (a compound) or before (a verb or preposition) a modality hit."""
    after = None
    j = h.end
    while j < len(toks) and (norms[j] in _SKIP_AFTER or j in covered) and not _barrier(cleaned, toks[j - 1], toks[j]):
        j += 1  # "image and video generation", "image-text generation"
    if j < len(toks) and not _barrier(cleaned, toks[j - 1], toks[j]):
        word = norms[j]
        if word in _BOTH_AFTER:
            after = (("source", "target"), toks[j].orig)
        elif word in _TARGET_AFTER:
            after = (("target",), toks[j].orig)
        elif word in _SOURCE_AFTER:
            after = (("source",), toks[j].orig)
    if after:  # a compound right after binds tighter than the words before ("using image generation")
        return after[0], "context", after[1]
    i = h.start - 1
    while i >= 0 and h.start - i <= _LOOK_BEFORE and not _barrier(cleaned, toks[i], toks[i + 1]):
        word = norms[i]
        if i not in covered:
            if word in _STOP_BEFORE:
                return None
            if word in _BOTH_BEFORE:
                return ("source", "target"), "context", toks[i].orig
            if word in _TARGET_BEFORE:
                return ("target",), "context", toks[i].orig
            if word in _SOURCE_BEFORE:
                return ("source",), "context", toks[i].orig
        i -= 1
    return None


def scores(hits: list[Hit], axis: str, skip_role: str = "") -> dict[str, float]:
    """Summed hit weights per value on one axis (leaving out hits in `skip_role`)."""
    out: dict[str, float] = defaultdict(float)
    for hit in hits:
        if hit.axis == axis and hit.rule not in _CUE_RULES and not (skip_role and hit.role == skip_role):
            out[hit.value] += hit.weight
    return dict(out)


_CUE_RULES = ("cue", "against")


def cue_scores(hits: list[Hit]) -> dict[str, float]:
    """Per mechanism concept: the weights of the cues for it less those against it."""
    out: dict[str, float] = defaultdict(float)
    for hit in hits:
        if hit.axis == "mechanism" and hit.rule in _CUE_RULES:
            out[hit.value] += hit.weight if hit.rule == "cue" else -hit.weight
    return dict(out)
