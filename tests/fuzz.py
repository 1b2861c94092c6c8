"""A deterministic mutation fuzzer for `scan`: takes the real inputs (the bundled example, the test fixtures,
the chart corpus when present), mutates one file at a time, in its structure (a value replaced by one of
another type, a node nested very deep, a name with control characters) or in its text (a hostile token
inserted, lines deleted, duplicated or cut, bytes flipped), and runs the command as a user would.

Each case must end with exit status 0, 1 or 2 and neither a traceback nor an `internal error`.
`python tests/fuzz.py ITERATIONS [SEED]` runs it from the command line (`make fuzz`)."""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from vizdoctor.cli import main  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "charts"
EXAMPLE = ROOT / "examples" / "seed-eks"
MAX_SEED = 300_000  # characters: the huge CRD bundles would make every case slow and add no new shapes

# Values of the wrong type, or hostile in themselves.
ODD_VALUES: list[Any] = [
    None,
    5,
    -1,
    2**70,
    1.5,
    True,
    "",
    "x",
    "8089",
    "\x1b[2J\r√ forged\n",
    "\u202e\x00\x07",
    [],
    [1, 2],
    ["a", {"b": None}],
    {},
    {"a": 1},
    {"name": {"x": [1]}},
    {"port": [443]},
]
TOKENS = [
    "!!int x",
    "!!float y",
    "!!binary ===",
    "!!timestamp 2020-13-45",
    "*nosuchanchor",
    "&a",
    "? [a, b]",
    "{",
    "[",
    "]",
    ": :",
    "\t",
    "---",
    "...",
    "%YAML 1.1",
    "\x00",
    "\ufeff",
    "<<: *a",
    '"\\',
    "${",
    "<<EOF",
    "= {",
    "}",
    "[" * 300,
    "{" * 300,
]


def _deep_text(depth: int) -> str:
    """A value nested `depth` levels, as JSON text (built as text: the serialisers recurse)."""
    opens = "".join("[" if i % 2 else '{"k": ' for i in range(depth))
    closes = "".join("]" if i % 2 else "}" for i in reversed(range(depth)))
    return opens + "1" + closes


_DEEP = "__vizdoctor_fuzz_deep_{}__"


def _nodes(doc: Any) -> list[tuple[Any, Any]]:
    """(container, key) of every value in the document, iteratively."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            out.append((node, k))
            if isinstance(v, dict | list):
                stack.append(v)
    return out


def mutate_structure(rng: random.Random, docs: list[Any]) -> list[Any]:
    docs = json.loads(json.dumps(docs))  # a deep copy that is plain JSON
    candidates = [n for d in docs for n in _nodes(d)]
    if not candidates:
        return docs
    for _ in range(rng.randint(1, 4)):
        container, key = rng.choice(candidates)
        r = rng.random()
        if r < 0.8:
            container[key] = rng.choice(ODD_VALUES)
        elif r < 0.9:
            container[key] = _DEEP.format(rng.choice([50, 199, 201, 600, 2000]))
        elif isinstance(container, dict) and key in container:
            del container[key]  # (candidates may now hold a detached or missing node: harmless)
    return docs


def mutate_text(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines)) if lines else 0
        r = rng.random()
        if r < 0.35 and lines:
            line = lines[i]
            at = rng.randint(0, len(line))
            lines[i] = line[:at] + rng.choice(TOKENS) + line[at:]
        elif r < 0.5 and lines:
            del lines[i : i + rng.randint(1, 3)]
        elif r < 0.6 and lines:
            lines.insert(i, lines[i])
        elif r < 0.7:
            lines = lines[: max(1, i)]  # truncated
        elif r < 0.8 and lines:
            lines[i] = " " * rng.randint(1, 9) + lines[i]  # indentation
        else:
            raw = bytearray("\n".join(lines).encode())
            for _ in range(rng.randint(1, 8)):
                if raw:
                    raw[rng.randrange(len(raw))] = rng.randrange(256)
            return raw.decode("utf-8", "surrogateescape")
    return "\n".join(lines)


@dataclass
class Seed:
    name: str  # file name to write (its suffix decides how it is read)
    text: str
    docs: list[Any] | None  # parsed documents, for structural mutation


def seeds() -> list[Seed]:
    files = sorted((ROOT / "examples").rglob("*.yaml")) + sorted((ROOT / "examples").rglob("*.tf"))
    files += sorted((ROOT / "tests" / "fixtures").rglob("*.yaml"))
    files += sorted((ROOT / "tests" / "fixtures").rglob("*.json"))
    if CORPUS.is_dir():
        files += sorted(CORPUS.glob("*.yaml"))
    out: list[Seed] = []
    for f in files:
        text = f.read_text()
        docs: list[Any] | None = None
        try:
            if f.suffix == ".json":
                docs = [json.loads(text)]
            elif f.suffix == ".yaml":
                docs = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
        except (ValueError, yaml.YAMLError):
            docs = None
        if f.suffix == ".yaml" and docs and len(docs) > 40:  # big chart renders: a window of documents
            for i in range(0, len(docs), 40):
                window = docs[i : i + 40]
                window_text = yaml.safe_dump_all(window)
                if len(window_text) < MAX_SEED:
                    out.append(Seed(f.name, window_text, window))
        else:
            out.append(Seed(f.name, text, docs))
    # tfvars forms of the example's values
    out.append(
        Seed(
            "prod.tfvars",
            'cluster_name = "x"\nports = [8089, 443]\nrules = { a = { from_port = 1 } }\n',
            None,
        )
    )
    out.append(
        Seed(
            "prod.tfvars.json",
            '{"cluster_name": "x", "ports": [8089], "rules": {"a": {"from_port": 1}}}',
            None,
        )
    )
    return out


@dataclass
class Failure:
    seed: str
    kind: str
    code: int
    stderr: str
    input: str


@dataclass
class Stats:
    cases: int = 0
    by_code: dict[int, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0


def _write_case(rng: random.Random, seed: Seed, tmp: Path) -> tuple[Path, str, str]:
    """Write one mutated input next to the example's Terraform; returns (dir, kind of mutation, text)."""
    if seed.docs is not None and rng.random() < 0.6:
        docs = mutate_structure(rng, seed.docs)
        kind = "structure"
        if seed.name.endswith(".json"):
            text = json.dumps(docs[0])
        elif rng.random() < 0.5:
            text = "\n---\n".join(json.dumps(d) for d in docs)  # JSON is YAML in flow style
        else:
            text = yaml.safe_dump_all(docs, allow_unicode=True)
        text = re.sub(r'"?__vizdoctor_fuzz_deep_(\d+)__"?', lambda m: _deep_text(int(m.group(1))), text)
    else:
        kind = "text"
        text = mutate_text(rng, seed.text)
    case = tmp / "case"
    if case.exists():
        shutil.rmtree(case)
    case.mkdir()
    target = case / seed.name
    if rng.random() < 0.3:
        # with the whole example around it: the mutated file then meets Terraform, paths and every check
        shutil.copytree(EXAMPLE, case / "example")
        same = list((case / "example").rglob(seed.name))
        target = same[0] if same else case / "example" / "manifests" / seed.name
    target.write_bytes(text.encode("utf-8", "surrogateescape"))
    return case, kind, text


def run_case(args: list[str]) -> tuple[int, str]:
    """(exit status, stderr); a check that failed inside the run (an `internal-error` finding) counts as
    an internal error too."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    stderr = err.getvalue()
    if "json" in args and code in (0, 1):
        checks = {f["check"] for f in json.loads(out.getvalue())["findings"]}
        if "internal-error" in checks:
            stderr += "internal error: a check failed (internal-error finding)"
    return code, stderr


def fuzz(iterations: int, seed: int, tmp: Path, progress: Callable[[str], None] | None = None) -> Stats:
    rng = random.Random(seed)
    pool = seeds()
    stats = Stats()
    t0 = time.perf_counter()
    for i in range(iterations):
        s = rng.choice(pool)
        case, kind, text = _write_case(rng, s, tmp)
        fmt = rng.choice(["text", "json", "sarif"])
        values = next(case.rglob(s.name))
        extra = ["--values", str(values)] if s.name.endswith(".yaml") and rng.random() < 0.2 else []
        code, err = run_case(["scan", str(case), "-o", fmt, "--color", "always", *extra])
        stats.cases += 1
        stats.by_code[code] = stats.by_code.get(code, 0) + 1
        if code not in (0, 1, 2) or "internal error" in err or "Traceback" in err:
            stats.failures.append(Failure(s.name, kind, code, err.strip(), text[:2000]))
        if progress and (i + 1) % 500 == 0:
            progress(f"{i + 1} cases, {len(stats.failures)} failures, {time.perf_counter() - t0:.0f} s")
    stats.seconds = time.perf_counter() - t0
    return stats


def _iter_failures(stats: Stats) -> Iterator[str]:
    for f in stats.failures[:20]:
        yield f"{f.seed} ({f.kind}): exit {f.code}: {f.stderr}"


if __name__ == "__main__":
    import tempfile

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    sd = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    with tempfile.TemporaryDirectory() as d:
        st = fuzz(n, sd, Path(d), progress=lambda m: print(m, file=sys.stderr))
    print(
        f"{st.cases} cases in {st.seconds:.0f} s ({st.cases / max(st.seconds, 1e-9):.0f}/s), seed {sd}; "
        f"exit codes {dict(sorted(st.by_code.items()))}; {len(st.failures)} failures"
    )
    for line in _iter_failures(st):
        print(line)
    sys.exit(1 if st.failures else 0)
