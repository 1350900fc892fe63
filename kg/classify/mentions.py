"""What a paper does: the methods and datasets its title and abstract name, and in what role.

Owns the extraction of method and dataset *mentions* from a title and an abstract: the
work's own proposed method ("we propose X", "X, a framework that", the title's "X: ..."
prefix), the methods it builds on or compares with, the datasets and benchmarks it
introduces ("we introduce X, a benchmark of ...") or evaluates on ("on the X benchmark",
"experiments on X and Y"). Every mention keeps its evidence: the words as written, the
field, the character span, the sentence, the cue that decided its role and a confidence.

The rules read how papers phrase contributions in general (verbs, appositions, head nouns,
name shapes), not any list of names. Names the graph already knows are linked: a method
to its concept of the taxonomy's named-methods scheme by label or altLabel, a dataset to the
graph's dataset by name or alias. A name it does not know becomes a new entity keyed by its
normalised name (`entity_key`), so "VM-DDPM", "VM DDPM" and "vm-ddpm" are one entity across
works, and parameter sizes are dropped ("LLaMA-65B" is LLaMA).

Pure and fast (regular expressions over sentences): no model, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from .text import clean

PROPOSES, USES, INTRODUCES = "proposes", "uses", "introduces"
METHOD, DATASET = "method", "dataset"

# Confidence of a mention by what decided it (measured against tests/fixtures/mentions_gold.yaml,
# see docs/classifier.md): a name the work says it proposes is surer than one it only names.
CONFIDENCE = {
    "title": 0.9,  # "X: a framework for ..." as the title
    "propose": 0.85,  # "we propose X", "X, a benchmark we introduce", "dubbed X" in such a sentence
    "head": 0.8,  # "the X dataset", "X, a framework that"
    "list": 0.7,  # "datasets such as X, Y and Z", "experiments on X and Y"
    "cue": 0.65,  # "outperforms X", "based on X", "fine-tune X"
    "named": 0.5,  # a name-shaped word (inner capitals or digits) with no cue around it
}
KNOWN_BONUS = 0.1  # a name the graph already knows as a method or dataset

DATASET_NOUNS = frozenset(
    ["dataset", "datasets", "data-set", "benchmark", "benchmarks", "corpus", "corpora", "collection", "testbed", "test-bed", "suite", "database", "databases", "leaderboard", "challenge"])
METHOD_NOUNS = frozenset(
    ["framework", "frameworks", "method", "methods", "model", "models", "approach", "approaches", "architecture", "system", "systems", "algorithm", "algorithms", "pipeline", "pipelines", "technique", "techniques", "module", "modules", "network", "networks", "agent", "agents", "assistant", "toolkit", "tool", "tools", "platform", "strategy", "mechanism", "layer", "block", "paradigm", "objective", "metric", "converter", "extension", "encoder", "decoder", "generator", "detector", "classifier", "baseline"])
_PROPOSE_VERBS = ("propose", "proposes", "proposed", "introduce", "introduces", "introduced", "present",
                  "presents", "presented", "develop", "develops", "developed", "design", "designs", "designed",
                  "release", "releases", "released", "build", "builds", "built", "construct", "constructs",
                  "constructed", "create", "creates", "created", "collect", "collects", "collected", "curate",
                  "curates", "curated", "devise", "devised", "contribute", "contributes", "establish",
                  "establishes", "name", "named", "call", "term", "dub", "offer", "offers", "unveil")
_SUBJECTS = ("we", "this paper", "this work", "this study", "the paper", "this article", "our work", "our paper",
             "our study", "this research", "this letter", "our approach", "our method", "our framework")
_NAMING = ("dubbed", "called", "named", "termed", "coined", "namely", "entitled", "titled")
_OWN = ("our", "the proposed", "our proposed", "the novel", "our novel", "the resulting")
# words before a name saying the work uses or compares with it
_USE_CUES = frozenset(
    ["outperform", "outperforms", "outperformed", "outperforming", "than", "vs", "vs.", "versus", "surpass", "surpasses", "surpassing", "beat", "beats", "compared", "comparing", "compare", "against", "baseline", "baselines", "use", "uses", "using", "used", "employ", "employs", "employing", "adopt", "adopts", "adopting", "leverage", "leverages", "leveraging", "utilize", "utilizes", "utilizing", "utilise", "with", "via", "like", "including", "include", "includes", "e.g.", "such", "extend", "extends", "extending", "extended", "upon", "atop", "fine-tune", "fine-tunes", "fine-tuned", "fine-tuning", "finetune", "finetuned", "tune", "tuned", "train", "trained", "prompt", "prompted", "integrate", "integrates", "integrating", "integrated", "combine", "combines", "combining", "replace", "replacing", "apply", "applies", "applying", "applied", "plug", "built", "pretrained", "pre-trained", "backbone", "backbones"])
# words that make "on X" an evaluation ("experiments on X", "achieves 97% on X", "trained on X")
_EVAL_CUES = re.compile(
    r"\b(experiment\w*|evaluat\w*|results?|test(?:ed|ing|s)?|train(?:ed|ing)?|fine-?tun\w*|achiev\w*|"
    r"outperform\w*|accura\w*|score\w*|performance|benchmark\w*|state-of-the-art|sota|validat\w*|"
    r"measured|report\w*|surpass\w*|improv\w*)\b", re.IGNORECASE)
_LIST_AFTER = frozenset(["including", "include", "includes", "such", "as", "like", "e.g.", "i.e.", "namely", ":", ","])
# names that are families, fields, units or metrics rather than one method or dataset
STOP_NAMES = frozenset(x.lower() for x in ["AI", "AGI", "ML", "DL", "NLP", "NLU", "NLG", "CV", "IR", "RL", "DRL", "LLM", "LLMs", "MLLM", "MLLMs", "LMM", "LMMs", "VLM", "VLMs", "LVLM", "LVLMs", "VLA", "PLM", "PLMs", "LM", "LMs", "CNN", "CNNs", "RNN", "RNNs", "GAN", "GANs", "GNN", "GNNs", "LSTM", "LSTMs", "BiLSTM", "GRU", "GRUs", "MLP", "MLPs", "SVM", "SVMs", "KNN", "VAE", "VAEs", "MoE", "RAG-based", "SOTA", "API", "APIs", "GPU", "GPUs", "CPU", "CPUs", "TPU", "QA", "VQA", "NER", "OCR", "ASR", "TTS", "POS", "SQL", "HTML", "JSON", "XML", "URL", "PDF", "IoT", "AR", "VR", "XR", "UI", "UX", "HCI", "RGB", "RGB-D", "CT", "MRI", "MR", "EEG", "ECG", "2D", "3D", "4D", "1D", "ID", "IDs", "F1", "F1-score", "PSNR", "SSIM", "LPIPS", "MSE", "MAE", "RMSE", "AUC", "AUROC", "ROC", "FID", "IS", "CLIP-I", "CLIP-T", "DINO-score", "BLEU", "ROUGE", "ROUGE-L", "ROUGE-1", "ROUGE-2", "METEOR", "CIDEr", "NDCG", "HR", "MRR", "mAP", "FDR", "FPR", "TPR", "COVID", "COVID-19", "SARS-CoV-2", "USA", "US", "UK", "EU", "GitHub", "Python", "Java", "JavaScript", "C++", "PyTorch", "TensorFlow", "English", "Chinese", "Internet", "Web", "Transformer", "Transformers", "Diffusion", "LoRA-based", "LLM-based", "AI-based", "DICE", "EncoderDecoder", "Encoder-Decoder", "IRB", "TOEFL", "GRE", "IELTS", "PhD", "MSc", "BSc", "arXiv", "Table", "Figure", "Fig", "Section", "Appendix"])
GENERIC_WORDS = frozenset(
    ["a", "an", "the", "of", "for", "and", "or", "to", "in", "on", "with", "via", "large", "language", "model", "models", "vision", "visual", "multimodal", "multi-modal", "neural", "network", "networks", "deep", "learning", "machine", "artificial", "intelligence", "generative", "reinforcement", "natural", "processing", "transformer", "transformers", "pre-trained", "pretrained", "foundation", "diffusion", "adversarial", "convolutional", "recurrent", "graph", "attention", "mechanism", "representation", "computer", "science", "engineering", "system", "systems", "data", "based", "driven", "personalized", "personalization", "generation", "retrieval", "recommendation", "recommender", "question", "answering", "image", "images", "text", "video", "audio", "speech", "user", "users", "structural", "health", "monitoring", "state", "space", "metamorphic", "testing", "test", "software", "health", "care", "healthcare", "medical", "clinical", "reasoning", "understanding", "detection", "classification", "segmentation", "recognition", "named", "entity", "knowledge", "base", "information", "extraction", "content", "services", "service", "optimization", "optimisation", "federated", "self-supervised", "supervised", "unsupervised", "analysis", "quality", "attributes", "human", "humans", "experts", "expert", "global", "local", "navigation", "satellite", "aperture", "radar", "light", "ranging", "unmanned", "aerial", "vehicles", "vehicle", "sensors", "content", "generated", "gated", "unit", "encoder", "decoder", "max", "pooling", "layer"])
_SIZE = re.compile(r"[-\s]?\(?\d+(?:\.\d+)?[BMKbmk]\)?$")  # "-13B", " 7B", " 32b"
_WORD = re.compile(r"(?:i\.e|e\.g|et al|vs)\.|[A-Za-z0-9][\w\-.+/]*[\w+]|[A-Za-z0-9]|\S")
_POSSESSIVE = re.compile(r"(\w)['’]s\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"(?:\be\.g|\bi\.e|\bet al|\bvs|\bFig|\bEq|\bcf|\bapprox|\bresp|\bNo)\.$", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """One method or dataset a work names, in a role, with its evidence."""

    kind: str  # method | dataset
    role: str  # proposes | uses (methods); introduces | uses (datasets)
    name: str  # as written (the acronym when the text defines one)
    key: str  # entity_key(name): what de-duplicates across works
    field: str  # title | abstract
    start: int  # character span of the name in the cleaned field
    end: int
    sentence: str
    confidence: float
    cue: str = ""  # what decided the role: "title prefix", "we propose", "dataset", "outperforms" ...
    known: str | None = None  # the taxonomy method notation or graph dataset name it links to
    aliases: tuple[str, ...] = ()  # the long form of an acronym the text defines

    @property
    def relation(self) -> str:
        """The graph property's local name: proposesMethod, usesMethod, introducesDataset, usesDataset."""
        return {(METHOD, PROPOSES): "proposesMethod", (METHOD, USES): "usesMethod",
                (DATASET, INTRODUCES): "introducesDataset", (DATASET, USES): "usesDataset"}[(self.kind, self.role)]

    def evidence(self) -> str:
        where = f"{self.field} [{self.start}:{self.end}]"
        return f'"{self.name}" ({where}, {self.cue}): "{_shorten(self.sentence)}"'

    def to_json(self) -> dict:
        out = {"kind": self.kind, "role": self.role, "name": self.name, "key": self.key, "field": self.field,
               "span": [self.start, self.end], "sentence": self.sentence, "confidence": self.confidence,
               "cue": self.cue}
        if self.known:
            out["known"] = self.known
        if self.aliases:
            out["aliases"] = list(self.aliases)
        return out


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def entity_key(name: str) -> str:
    """The normalised name entities are de-duplicated by: lower case, letters and digits only,
    a parameter size dropped ("LLaMA-13B" -> "llama", "GPT-4" -> "gpt4")."""
    base = _SIZE.sub("", name.strip()) or name
    words = base.split()
    if len(words) > 1 and words[-1].lower() in DATASET_NOUNS:  # "the HC3 dataset" is HC3
        base = " ".join(words[:-1])
    return re.sub(r"[^a-z0-9]+", "", base.lower())


def display_name(name: str) -> str:
    """A name without its parameter size and surrounding quotes ("LLaMA-65B" -> "LLaMA")."""
    name = name.strip(" \"'“”‘’")
    base = _SIZE.sub("", name)
    return base if base and any(c.isalpha() for c in base) else name


class Linker:
    """Known entities by normalised name: taxonomy methods (label, altLabel) and graph datasets."""

    def __init__(self, methods: dict[str, list[str]] | None = None, datasets: dict[str, list[str]] | None = None):
        self.methods: dict[str, str] = {}
        self.datasets: dict[str, str] = {}
        for notation, labels in (methods or {}).items():
            for label in labels:
                self.methods.setdefault(entity_key(label), notation)
        for name, aliases in (datasets or {}).items():
            for label in [name, *aliases]:
                self.datasets.setdefault(entity_key(label), name)

    def link(self, key: str, kind: str) -> tuple[str | None, str | None]:
        """(kind, known value) of a normalised name; a known name of the other kind wins over a
        guessed kind (a name the graph holds as a dataset is a dataset)."""
        if kind == DATASET and key in self.datasets:
            return DATASET, self.datasets[key]
        if kind == METHOD and key in self.methods:
            return METHOD, self.methods[key]
        if key in self.datasets:
            return DATASET, self.datasets[key]
        if key in self.methods:
            return METHOD, self.methods[key]
        return None, None


# ---------------------------------------------------------------- words and names
class _Word(NamedTuple):
    text: str
    low: str
    start: int
    end: int
    shape: str  # _shape(text)
    suffix: str = ""  # a lower-case compound part cut off a name ("based" of "CLIP-based")


_SUFFIXES = frozenset(["based", "driven", "like", "style", "powered", "enhanced", "guided", "generated", "inspired", "specific", "aware", "free", "conditioned", "augmented", "improved", "tuned", "only", "assisted", "centric", "oriented"])
_URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|io|net|edu|ai|me|be)/\S*")
_CITATION = re.compile(r"\(\s*[A-Z][\w-]+(?: et al\.?| and [A-Z][\w-]+)?,?\s*\d{4}[a-z]?\s*\)")


def _words(sentence: str, offset: int) -> list[_Word]:
    """The words of a sentence with their offsets in the field. URLs and author-year citations
    are blanked; "CLIP-based" becomes CLIP (suffix "based"), "Bahdanau's" Bahdanau."""
    masked = sentence
    if "/" in masked or "www." in masked:
        masked = _URL.sub(lambda m: " " * len(m[0]), masked)
    if "(" in masked:
        masked = _CITATION.sub(lambda m: " " * len(m[0]), masked)
    out = []
    for m in _WORD.finditer(masked):
        text = m[0]
        start = offset + m.start()
        if "-" in text:
            head, _, tail = text.rpartition("-")
            if tail in _SUFFIXES and head and not head.islower():
                out.append(_Word(head, head.lower(), start, start + len(head), _shape(head), tail))
                continue
        low = text.lower()
        out.append(_Word(text, low, start, start + len(text),
                         "" if low == text and text.isalpha() or not text[0].isalnum() else _shape(text)))
    return out


@lru_cache(maxsize=100_000)
def _shape(word: str) -> str:
    """'strong' (inner capitals or letters with digits: ChatGPT, BraTS2018, word2vec, VM-DDPM),
    'acronym' (all capitals: BART, COCO), 'cap' (Capitalised), 'num' (3.5, 2019) or ''."""
    if word.islower() and word.isalpha() or not word[0].isalnum() or word.lower() in STOP_NAMES:
        return ""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return "num" if word[0].isdigit() else ""
    if re.fullmatch(r"[A-Za-z]\d", word):
        return "num"  # T1 alone is no name, "Deepseek R1" is
    if re.fullmatch(r"[A-Z]{2,}s|\d+(\.\d+)?[BMKbmk]|\d+[A-Za-z]{1,2}", word):
        return ""  # LLMs (a family), 13B (a size), 3D
    has_digit = any(c.isdigit() for c in word)
    parts = [p for p in word.split("-") if p]
    caps = [p for p in parts if len(p) > 1 and p.isupper() and p.lower() not in STOP_NAMES]
    if all(c.isupper() for c in letters):
        if len(letters) == 1 and not has_digit:
            return ""
        return "strong" if has_digit or len(caps) > 1 or len(parts) > 1 and caps else "acronym"
    if any(any(c.isupper() for c in p[1:]) for p in parts if not p.isupper()) or (has_digit and len(letters) >= 2) or caps:
        return "strong"
    if word[0].isupper():
        return "cap"
    return ""


_SENTENCE_STARTERS = frozenset(
    ["the", "a", "an", "we", "our", "this", "these", "those", "in", "on", "for", "to", "with", "by", "from", "as", "at", "it", "its", "their", "there", "here", "however", "moreover", "furthermore", "finally", "first", "second", "third", "then", "thus", "therefore", "while", "although", "when", "where", "unlike", "recent", "recently", "existing", "despite", "based", "specifically", "additionally", "besides", "experiments", "results", "both", "each", "all", "many", "most", "some", "such", "further", "also", "purpose", "purposes", "methods", "background", "conclusion", "conclusions", "objective", "objectives"])
_LIST_WORDS = frozenset([",", "and", "or", "(", ")", "&", "as", "well"])
_INTRO = ("such as", "including", "like", "e.g", "i.e", "namely", ":", "-", "–", "—", "viz", "include",
          "includes", "e.g.", "i.e.")
_BLOCK = frozenset(["that", "which", "who", "whom", "whose", "where", "to", "into", "by", "for", "of", "on", "in", "with", "using", "from", "than", "via", "through", "while", "when", "against", "over", "upon", "under", "across", "between", "among"])
_STRONG_USE = frozenset(["outperform", "outperforms", "outperformed", "than", "vs", "vs.", "versus", "compared", "comparing", "against", "surpass", "surpasses", "surpassing", "beat", "beats", "extend", "extends", "extending", "extended", "like", "including", "e.g", "e.g."])
_PLURAL_FAMILY = frozenset(n for n in METHOD_NOUNS | DATASET_NOUNS if n.endswith(("s", "corpora")))


def _runs(words: list[_Word], field: str) -> list[tuple[int, int, str]]:
    """Runs of name-shaped words (start, end, strongest shape). A run is extended over numbers and
    capitalised words ("Claude 3.5 Sonnet", "CLEF 2019 ProtestNews") and over a capitalised
    dataset noun ("Cipher Dataset"). In a title every word is capitalised, so only words shaped
    like names start a run there."""
    out = []
    i = 0
    while i < len(words):
        shape = words[i].shape
        starter = i == 0 or words[i - 1].text in ('"', "“", "(", ":") and i == 1
        if shape in ("", "num") or shape == "cap" and (words[i].low in _SENTENCE_STARTERS or field == "title"
                                                        or starter and i + 1 < len(words) and words[i + 1].shape == ""):
            i += 1
            continue
        j = i + 1
        shapes = [shape]
        while j < len(words) and j - i < 6 and not words[j - 1].suffix:
            s = words[j].shape
            if s == "cap" and field == "title":
                break
            if s in ("strong", "acronym", "cap", "num") and not (s == "cap" and words[j].low in _SENTENCE_STARTERS):
                shapes.append(s)
                j += 1
            else:
                break
        if shapes[0] == "cap" and i == 0 and len(shapes) > 1 and shapes[1] != "num":  # "Leveraging ChatGPT"
            i += 1
            continue
        best = "strong" if "strong" in shapes else "acronym" if "acronym" in shapes else "cap"
        if best == "cap" and all(w.low in GENERIC_WORDS or w.low in DATASET_NOUNS for w in words[i:j]):
            i = j
            continue
        out.append((i, j, best))
        i = j
    return out


@dataclass
class _Candidate:
    start: int  # word span of the name
    end: int
    shape: str
    context: int  # the word the role is read before (the long form's start for an acronym)
    after: int  # the word the apposition is read from
    aliases: tuple[str, ...] = ()
    kind: str | None = None  # from the noun before "(ACR)": "a dialogue dataset (MSDialogue)"
    titled: bool = False  # an acronym the title defines: the work's own


def _candidates(words: list[_Word], text: str, field: str) -> tuple[list[_Candidate], set[str]]:
    """Name candidates of a sentence, acronyms joined to their long forms, and the acronyms a
    sentence defines for generic phrases (State Space Model (SSM): never an entity)."""
    runs = _runs(words, field)
    out: list[_Candidate] = []
    generic: set[str] = set()
    consumed: set[int] = set()
    for k in range(1, len(words) - 2):  # "Long Form (ACR)"
        if words[k].text != "(" or words[k + 2].text != ")" or words[k + 1].shape not in ("strong", "acronym"):
            continue
        acr = words[k + 1]
        run = next((r for r in runs if r[1] == k and r[0] != k + 1), None)
        n = max(2, min(8, sum(c.isupper() for c in acr.text)))
        if run is not None:
            lf_start = run[0]
        else:
            lf_start = k
            while lf_start > 0 and k - lf_start < n and words[lf_start - 1].text not in (",", ";", ".", ":", "(", ")"):
                lf_start -= 1
        long_words = words[lf_start:k]
        if not long_words:
            continue
        long = " ".join(w.text for w in long_words)
        noun = words[k - 1].low
        if run is None and noun in DATASET_NOUNS | METHOD_NOUNS and words[k - 1].text.islower():  # "a dialogue dataset (MSDialogue)"
            out.append(_Candidate(k + 1, k + 2, acr.shape, lf_start, k + 3, (),
                                  DATASET if noun in DATASET_NOUNS else METHOD, field == "title"))
            consumed.update(range(k, k + 3))
            continue
        named = lf_start > 0 and words[lf_start - 1].low in _NAMING
        lower = all(not w.text[:1].isupper() for w in long_words[1:]) and (lf_start == 0 or long_words[0].text.islower())
        if run is None and field != "title" and not named and (lower or all(
                w.low in GENERIC_WORDS or w.low in STOP_NAMES or not w.text[0].isalnum() for w in long_words)):
            generic.add(entity_key(acr.text))
            consumed.update(range(lf_start, k + 3))
            continue
        noun = words[k - 1].low
        kind = DATASET if noun in DATASET_NOUNS else None
        out.append(_Candidate(k + 1, k + 2, acr.shape, lf_start, k + 3, (long,), kind, field == "title"))
        consumed.update(range(lf_start, k + 3))
    for i, j, shape in runs:
        if i in consumed:
            continue
        aliases: tuple[str, ...] = ()
        after = j
        if j < len(words) and words[j].text == "(" and shape in ("strong", "acronym"):  # "REST (Reasoning ...)"
            close = next((m for m in range(j + 1, min(len(words), j + 10)) if words[m].text == ")"), None)
            inside = words[j + 1:close] if close else []
            if close and close > j + 2 and any(w.text[:1].isupper() for w in inside) and \
                    not any(w.text in (",", ";") or w.text.isdigit() for w in inside):
                aliases = (" ".join(w.text for w in words[j + 1:close]),)
                consumed.update(range(j, close + 1))
                after = close + 1
        if j < len(words) and words[j].text[:1].isupper() and words[j].low in DATASET_NOUNS and \
                not words[j].low.endswith("s"):  # "Cipher Dataset"
            j += 1
            after = j
        out.append(_Candidate(i, j, shape, i, after, aliases))
    out.sort(key=lambda c: c.start)
    return out, generic


def _ends_noun(name: str) -> bool:
    return name.split()[-1].lower() in DATASET_NOUNS and len(name.split()) > 1


def _kind_from_words(words: list[str]) -> str | None:
    for w in reversed(words):
        if w in DATASET_NOUNS:
            return DATASET
        if w in METHOD_NOUNS:
            return METHOD
    return None


def _appositive(words: list[_Word], k: int) -> tuple[str | None, str]:
    """After a name: ", a/an/the ... NOUN" or ": an ... NOUN" or a singular NOUN right after it
    ("the X dataset", "the X framework") -> (kind, head noun)."""
    if k < len(words) and words[k].low in DATASET_NOUNS | METHOD_NOUNS:
        if words[k].low in _PLURAL_FAMILY:  # "GPT models", "ADAS benchmarks": a family, not one
            return "family", words[k].low
        return (DATASET if words[k].low in DATASET_NOUNS else METHOD), words[k].low
    if k + 1 < len(words) and words[k].text in (",", ":") and words[k + 1].low in ("a", "an", "the", "which", "our"):
        group = False
        for w in words[k + 2:k + 10]:
            if group and w.low == "of":  # "a collection of foundation language models": the models
                continue
            group = w.low in ("collection", "family", "series", "suite", "set")
            if group:
                continue
            if w.low in DATASET_NOUNS:
                return DATASET, w.low
            if w.low in METHOD_NOUNS:
                return METHOD, w.low
            if w.text in (",", ";", ".", "(") or w.low in ("that", "which", "to", "for"):
                break
    return None, ""


_PROPOSE_SET = frozenset(_PROPOSE_VERBS)
_VERB_ALTERNATIVES = "|".join(_PROPOSE_VERBS)
_SUBJECT_ALTERNATIVES = "|".join(re.escape(s) for s in _SUBJECTS)
_ACTIVE = re.compile(rf"\b(?:{_SUBJECT_ALTERNATIVES})\s+(?:\w+ly\s+|also\s+|then\s+|first\s+|further\s+|here\s+)*"
                     rf"(?:{_VERB_ALTERNATIVES})\b")
_PASSIVE = re.compile(rf"\b(?:is|are|was|were|been|being)\s+(?:\w+ly\s+)?(?:{_VERB_ALTERNATIVES})\b")
_USES_HERE = re.compile(r"\b(use[sd]?|using|utiliz\w+|employ\w*|adopt\w*|pretrained|pre-trained)\b", re.IGNORECASE)
_NAMEISH = re.compile(r"[A-Z]|[A-Za-z]\d|\d[A-Za-z]|[\"“]")


def _proposing(before: list[str]) -> tuple[str, int] | None:
    """'we propose' (or 'X is proposed') in the words before a name: (cue, index after the verb)."""
    if not _PROPOSE_SET.intersection(before):
        return None
    text = " ".join(before)
    best = None
    for m in _ACTIVE.finditer(text):
        best = m
    if best is None:
        for m in _PASSIVE.finditer(text):
            best = m
    if best is None:
        return None
    return best[0], len(text[:best.end()].split())


def _list_intro(words: list[_Word], i: int) -> tuple[str, str] | None:
    """A name in a list after "datasets such as", "three benchmark datasets including", "LLMs -":
    (kind, cue). Scans back over the list's other names and separators."""
    k = i - 1
    while k >= 0 and (words[k].low in _LIST_WORDS or words[k].shape or _SIZE.fullmatch(words[k].text) or words[k].text[:1].isupper()
                      and words[k].low not in _SENTENCE_STARTERS and words[k].low not in DATASET_NOUNS):
        k -= 1
    if k < 0:
        return None
    intro = words[k].low.rstrip(".")
    if intro == "as" and k > 0 and words[k - 1].low == "such":
        intro, k = "such as", k - 1
    if intro not in {x.rstrip(".") for x in _INTRO} and words[k].text != ",":
        if words[k].low in ("datasets", "benchmarks", "corpora") and words[k].text.islower():
            return DATASET, words[k].low  # "datasets ACDC, BraTS2018"
        return None
    for w in reversed(words[max(0, k - 7):k]):
        if w.low in ("datasets", "benchmarks", "corpora", "dataset", "benchmark"):
            return DATASET, f"{w.low} {intro}"
        if w.low in ("models", "methods", "baselines", "approaches", "llms", "algorithms", "systems", "lms",
                     "architectures", "encoders", "backbones", "mllms", "vlms"):
            return METHOD, f"{w.low} {intro}"
        if w.text in (".", ";"):
            break
    return None


def _on_list(words: list[_Word], i: int) -> str | None:
    """Whether the name is (in a list) right after "on", "across" or "in" ("results on X, Y and Z")."""
    k = i - 1
    while k >= 0:
        w = words[k]
        if w.low in ("on", "across"):
            return w.low
        if w.low == "in" and k > 0 and (words[k - 1].text == ")" or words[k - 1].low in STOP_NAMES):
            return w.low
        if w.low in _LIST_WORDS or w.low == "the" or w.shape or w.text[:1].isupper():
            k -= 1
            continue
        return None
    return None


def _use_cue(words: list[_Word], i: int, strong_only: bool) -> str:
    """The nearest word saying the name is used or compared with, through a list of names."""
    k = i - 1
    steps = 0
    while k >= 0 and steps < 7:
        w = words[k]
        if w.low in (_STRONG_USE if strong_only else _USE_CUES) or " ".join(x.low for x in words[k - 1:k + 1]) == "such as":
            return w.low
        if w.text in (".", ";") or (w.text.islower() and w.low not in ("and", "or", "the", "a", "an", "with", "to")
                                   and not strong_only and steps > 2):
            break
        k -= 1
        steps += 1
    return ""


def sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; a full stop after e.g., i.e., et al. or vs. does not end one."""
    out: list[tuple[int, str]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if _ABBREV.search(text[start:m.start()]):
            continue
        out.append((start, text[start:m.start()]))
        start = m.end()
    if start < len(text):
        out.append((start, text[start:]))
    return [(o, s) for o, s in out if s.strip()]


def cleaned(text: str | None) -> str:
    """The text mention spans count in: kg.classify.text.clean, possessives dropped ("user's": user)."""
    return clean(_POSSESSIVE.sub(r"\1", text or ""))[0]


def extract(title: str, abstract: str, linker: Linker | None = None) -> list[Mention]:
    """The method and dataset mentions of one work, strongest role per entity, in text order."""
    linker = linker or Linker()
    found: list[Mention] = []
    t, a = cleaned(title), cleaned(abstract)
    own: set[str] = set()  # keys of what the work proposes or introduces
    generic: set[str] = set()
    if t:
        found += _title_prefix(t, linker, own)
        found += _field("title", t, [(0, t)], linker, own, generic)
    if a:
        found += _field("abstract", a, sentences(a), linker, own, generic)
    return _merge([m for m in found if m.key not in generic], own)


def _title_prefix(title: str, linker: Linker, own: set[str]) -> list[Mention]:
    """"X: a benchmark for ..." / "X: Open and Efficient ..." -> the work's own X."""
    m = re.match(r"\s*([^:]{1,60}?)\s*:\s+(\S.*)", title)
    if not m:
        return []
    prefix, rest = m[1], m[2]
    words = _words(prefix, 0)
    if not words or len(words) > 5:
        return []
    shapes = [w.shape for w in words]
    if not any(s in ("strong", "acronym") for s in shapes) and not (len(words) == 1 and shapes[0] == "cap"):
        return []
    if words[0].low in STOP_NAMES or all(w.low in GENERIC_WORDS for w in words):
        return []
    name = display_name(prefix)
    key = entity_key(name)
    if not key:
        return []
    head = [w.lower() for w in re.findall(r"[A-Za-z\-]+", rest)[:6]]
    kind = DATASET if any(w in DATASET_NOUNS for w in head) else METHOD
    linked_kind, known = linker.link(key, kind)
    kind = linked_kind or kind
    own.add(key)
    conf = min(1.0, CONFIDENCE["title"] + (KNOWN_BONUS if known else 0.0))
    return [Mention(kind, INTRODUCES if kind == DATASET else PROPOSES, name, key, "title", m.start(1),
                    m.start(1) + len(prefix), title, round(conf, 2), "title prefix", known)]


def _quoted(sentence: str, offset: int) -> list[tuple[int, int, str]]:
    """Names in quotes right after a proposing or naming verb ('We present "Human or Not?", ...')."""
    out = []
    for m in re.finditer(r"(?:\b(?:propose|introduce|present|call|name|named|called|dubbed|termed)[sd]?\s*(?:it|them)?\s*)"
                         r"[\"“]([^\"”]{2,40})[\"”]", sentence, re.IGNORECASE):
        out.append((offset + m.start(1), offset + m.end(1), m[1]))
    return out


class _Lazy:
    """A yes/no worked out once, the first time it is asked (most sentences never ask)."""

    __slots__ = ("fn", "value")

    def __init__(self, fn):
        self.fn, self.value = fn, None

    def __bool__(self) -> bool:
        if self.value is None:
            self.value = self.fn()
        return self.value


def _field(field: str, text: str, parts: list[tuple[int, str]], linker: Linker, own: set[str],
           generic: set[str]) -> list[Mention]:
    out: list[Mention] = []
    for offset, sentence in parts:
        if not _NAMEISH.search(sentence, 1):
            continue  # no capital after the first letter, no letter next to a digit, no quote: no name
        words = _words(sentence, offset)
        if not words:
            continue
        has_eval = _Lazy(lambda sentence=sentence: bool(_EVAL_CUES.search(sentence)))
        uses_here = _Lazy(lambda sentence=sentence: bool(_USES_HERE.search(sentence)))
        for start, end, name in (_quoted(sentence, offset) if '"' in sentence or "“" in sentence else ()):
            before = [w.low for w in words if w.end <= start]
            if _proposing(before) or (before and before[-1] in _NAMING):
                key = entity_key(display_name(name))
                if key:
                    own.add(key)
                    _, known = linker.link(key, METHOD)
                    out.append(Mention(METHOD, PROPOSES, display_name(name), key, field, start, end, sentence.strip(),
                                       CONFIDENCE["propose"], "quoted name", known))
        cands, gen = _candidates(words, text, field)
        generic.update(gen)
        for c in cands:
            mention = _role(words, c, sentence, has_eval, uses_here, linker, own, text, field)
            if mention:
                out.append(mention)
    return out


def _role(words: list[_Word], c: _Candidate, sentence: str, has_eval: bool, uses_here: bool, linker: Linker,
          own: set[str], text: str, field: str) -> Mention | None:
    name = display_name(text[words[c.start].start:words[c.end - 1].end])
    key = entity_key(name)
    if not key or len(key) < 2 or name.lower() in STOP_NAMES:
        return None
    before_words = words[:c.context]
    before = [w.low for w in before_words][-30:]
    prev = before[-1] if before else ""
    prev_word = words[c.context - 1] if c.context else None
    apo_kind, head = _appositive(words, c.after)
    if apo_kind == "family":
        return None
    kind = c.kind or apo_kind
    role = cue = level = None
    last = words[c.end - 1]
    if c.titled:
        role, cue, level = "own", "defined in the title", "title"
    if c.context and c.end < len(words) and words[c.context - 1].text == "(" and words[c.end].text == ")" \
            and c.shape == "cap":
        return None  # "(Anthropic)": a parenthetical remark
    if c.shape == "cap" and last.suffix:
        return None  # "Turing-like tests": an adjective
    if role is None and c.shape != "cap" and last.suffix in ("based", "driven", "powered", "enhanced", "guided", "like", "style", "generated", "inspired"):
        role, cue, level = USES, f"{last.suffix} on" if last.suffix == "based" else last.suffix, "cue"
    naming_at = next((k for k in range(len(before) - 1, max(-1, len(before) - 4), -1) if before[k] in _NAMING), None)
    naming = naming_at is not None and all(w in (",", '"', "“", "the", "a", "an", "it", "as") for w in before[naming_at + 1:])
    proposing = _proposing(before[-16:])
    if role is None and naming:
        if uses_here and not _proposing(before):
            role, cue, level = USES, before[naming_at], "cue"
        else:
            role, cue, level = "own", before[naming_at], "propose"
    if role is None and proposing:
        between = before[-16:][proposing[1]:]
        apposed = len(before) > 1 and before[-1] == "," and before[-2] in METHOD_NOUNS | DATASET_NOUNS
        if not any(w in _BLOCK or w in _USE_CUES for w in between) and (c.shape != "cap" or apo_kind or c.aliases
                                                                           or apposed or _ends_noun(name)):
            role, cue, level = "own", proposing[0], "propose"
            kind = kind or _kind_from_words(between)
    if role is None and (prev == "our" or " ".join(before[-2:]) in _OWN) and (c.shape != "cap" or _ends_noun(name)):
        role, cue, level = "own", " ".join(before[-2:]) if " ".join(before[-2:]) in _OWN else prev, "propose"
    if role is None:
        listed = _list_intro(words, c.context)
        if listed:
            role, cue, level = USES, listed[1], "list"
            kind = kind or listed[0]
    if role is None and has_eval and c.shape != "cap" or role is None and has_eval and apo_kind == DATASET:
        on = _on_list(words, c.context)
        if on and not (prev_word is not None and prev_word.low == "on" and c.context > 1 and words[c.context - 2].low in ("based", "built", "relies", "rely", "depend", "depends")):
            role, cue, level = USES, f"evaluated {on}", "list"
            kind = kind or DATASET
    if role is None and apo_kind is not None and head in DATASET_NOUNS | {"model", "framework", "method", "architecture", "algorithm"} \
            and c.shape != "cap":
        role, cue, level = USES, head, "head"
    if role is None:
        use = _use_cue(words, c.context, strong_only=c.shape == "cap")
        if use:
            role, cue, level = USES, use, "cue"
    if role is None and c.shape == "strong":
        role, cue, level = USES, "named", "named"
    if role is None:
        return None
    if kind is None and re.search(r"(bench|benchmark|set|corpus)$", name.lower()):
        kind = DATASET
    linked_kind, known = linker.link(key, kind or METHOD)
    if linked_kind and (kind is None or known is not None and linked_kind != kind and level in ("named", "cue")):
        kind = linked_kind
    kind = kind or METHOD
    if role == "own":
        own.add(key)
        role = INTRODUCES if kind == DATASET else PROPOSES
    conf = min(1.0, CONFIDENCE[level] + (KNOWN_BONUS if known else 0.0))
    return Mention(kind, role, name, key, field, words[c.start].start, words[c.end - 1].end, sentence.strip(),
                   round(conf, 2), cue, known if linked_kind == kind else None, c.aliases)


_ROLE_RANK = {PROPOSES: 2, INTRODUCES: 2, USES: 1}


def _merge(found: list[Mention], own: set[str]) -> list[Mention]:
    """One mention per (kind, entity): the strongest role, then the highest confidence, first seen
    on ties. A name the work proposes is never also one it uses (Yo'LLaVA does not build on itself)."""
    best: dict[str, Mention] = {}
    order: list[str] = []
    kinds: dict[str, str] = {}
    for m in found:  # the kind the strongest evidence gives wins for the whole entity
        prev = kinds.get(m.key)
        if prev is None or _ROLE_RANK[m.role] > _ROLE_RANK[best[m.key].role] or \
                (_ROLE_RANK[m.role] == _ROLE_RANK[best[m.key].role] and m.confidence > best[m.key].confidence):
            if m.key not in best:
                order.append(m.key)
            if m.key in own and m.role == USES and m.key in best:
                continue
            best[m.key] = m
            kinds[m.key] = m.kind
    out = []
    for key in order:
        m = best[key]
        if m.cue == "title prefix":  # the abstract's head noun knows the kind better than the title
            said = next((x for x in found if x.key == key and x.role != USES and x.cue != "title prefix"), None)
            if said is not None and said.kind != m.kind:
                m = Mention(said.kind, said.role, m.name, m.key, m.field, m.start, m.end, m.sentence, m.confidence,
                            m.cue, said.known, m.aliases)
        if key in own and m.role == USES:
            m = Mention(m.kind, INTRODUCES if m.kind == DATASET else PROPOSES, m.name, m.key, m.field, m.start,
                        m.end, m.sentence, m.confidence, m.cue, m.known, m.aliases)
        aliases = tuple(dict.fromkeys(a for x in found if x.key == key for a in x.aliases))
        if aliases != m.aliases:
            m = Mention(m.kind, m.role, m.name, m.key, m.field, m.start, m.end, m.sentence, m.confidence, m.cue,
                        m.known, aliases)
        out.append(m)
    return out
