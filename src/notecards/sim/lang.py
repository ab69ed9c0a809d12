"""The sim language: statements of a ```sim block (or of a card's LaTeX) -> `ModelSpec`.

One statement per line, `#` starts a comment:

    lambda = 4                       constant (a number or an expression of constants)
    s = [15, 10, 16]                 data vector
    theta ~ Normal(0, lambda)        a draw; arguments in the notes' parameterisation
    theta[1..J] ~ Normal(mu, tau^2)  a plate: index letter j runs over 1..J
    y[j] ~ Normal(theta[j], s[j]^2)  j is the lower case of a size symbol, or declared by 1..J
    y[i, j] ~ Normal(mu[j], 1)       two indices: nested plates I and J
    X = theta + eps                  deterministic node
    n = 20000 / seed = 7 / show = theta, X        options
    check: var(X) ≈ lambda + sigma^2             a check of the draws (see checks.py)

Choices written down here because the task leaves them open:
- Statements may refer to names defined further down; nodes are put in dependency order
  (a program already written in order keeps its order). A cycle is an error.
- `n`, `draws`, `seed` and `show` are options in a sim block, so a variable cannot be called
  `n` there (the message says so). In LaTeX-derived statements (`origin="latex"`) `n` is an
  ordinary symbol, since card math uses it for sample sizes.
- A name given values (`y = [28, 8, -3]`) and later a `~` statement is observed data:
  one stochastic node whose `observed` holds the values.
- In a sim block a second definition of a name is an error. In LaTeX-derived statements it is
  a claim that two forms are equivalent: the second definition, with the nodes only it uses,
  goes to `spec.alternatives` and `simulate` compares both.
- In LaTeX-derived statements, symbols never given a value default to 1 and undefined plate
  sizes to 5 (`DEFAULT_PLATE`); they are listed in `spec.defaults` and reported as info.
- A node over two plates has `plate == "I,J"` and `index == "i,j"` (comma-joined, outer first),
  since `Node.plate` is a single string.
- A model with any error gives `None` and the diagnostics; a partial model would draw figures
  of something the note does not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from notecards.sim import distributions
from notecards.sim.expr import (BUILTIN_CONSTANTS, MAX_ELEMENTS, RELATIONS, EvalError, Evaluator,
                                Parser, ParseError, Token, Val, expand, format_expr, names_in,
                                tokenize)
from notecards.sim.model import Check, Expr, ModelSpec, Node
from notecards.types import Diagnostic

MAX_DRAWS = 2_000_000
MAX_PLATE = 100_000
DEFAULT_DRAWS = 10_000
DEFAULT_PLATE = 5
DEFAULT_VALUE = 1.0
OPTIONS = ("n", "draws", "seed")
_CHECK = re.compile(r"^\s*check\s*:\s*(.*)$", re.IGNORECASE)
_SHOW = re.compile(r"^\s*show\s*[=:]\s*(.*)$", re.IGNORECASE)


def parse_sim(text: str, path: str, first_line: int,
              origin: str = "sim") -> tuple[ModelSpec | None, list[Diagnostic]]:
    """Parse a sim block's body; `first_line` is the note line of the body's first line."""
    builder = _Builder(path, first_line, origin)
    for offset, raw in enumerate(text.split("\n")):
        builder.statement(raw, first_line + offset)
    return builder.finish()


def plates_of(node: Node) -> list[str]:
    return node.plate.split(",") if node.plate else []


def indices_of(node: Node) -> list[str]:
    return node.index.split(",") if node.index else []


def node_exprs(node: Node) -> list[Expr]:
    return ([node.expr] if node.expr is not None else []) + list(node.args.values())


def value_of(node: Node) -> Val:
    """A const/data node's value as a `Val` (plate axes named, other axes anonymous)."""
    arr = np.asarray(node.value, dtype=float)
    plates = plates_of(node)
    anonymous = tuple(f"#{k + 1}" for k in range(arr.ndim - len(plates)))
    return Val(arr[None, ...], tuple(plates) + anonymous)


def topological_order(nodes: list[Node]) -> tuple[list[Node], list[Node]]:
    """Nodes with every parent (and plate size) before its child, keeping written order
    where it already works; the second list holds nodes on a cycle."""
    by_name = {n.name: n for n in nodes}
    done: set[str] = set()
    ordered: list[Node] = []
    remaining = list(nodes)
    while remaining:
        ready = next((n for n in remaining
                      if all(p in done or p not in by_name for p in _deps(n))), None)
        if ready is None:
            return ordered, remaining
        ordered.append(ready)
        done.add(ready.name)
        remaining.remove(ready)
    return ordered, []


def _deps(node: Node) -> list[str]:
    return [p for p in node.parents + plates_of(node) if p != node.name]


@dataclass
class _Builder:
    """Reads a block one statement at a time and only then builds the graph, so a statement may
    use a name defined further down, and every mistake in the block is reported at its own line
    in one pass instead of stopping at the first."""

    path: str
    first_line: int
    origin: str
    defs: dict[str, list[Node]] = field(default_factory=dict)
    observed_exprs: dict[str, Expr] = field(default_factory=dict)
    index_plates: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    options: dict[str, tuple[Expr, int]] = field(default_factory=dict)
    show: tuple[list[str], int] | None = None
    broken: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    canonical: list[str] = field(default_factory=list)

    def error(self, line: int, message: str, col: int = 0) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, "error", message, col))

    # ---- statements ------------------------------------------------------------------------

    def statement(self, raw: str, line: int) -> None:
        text = raw.split("#", 1)[0].strip()
        if not text:
            return
        try:
            self._statement(text, line)
        except ParseError as exc:
            self.error(line, f"{exc} in `{text}`", exc.col)
            lhs = re.match(r"\s*([A-Za-z_]\w*)", text)
            if lhs:
                self.broken.add(lhs.group(1))

    def _statement(self, text: str, line: int) -> None:
        check = _CHECK.match(text)
        if check:
            self.checks.append(self._check(check.group(1).strip(), line))
            self.canonical.append(f"check: {check.group(1).strip()}")
            return
        show = _SHOW.match(text)
        if show and self.origin == "sim":
            names = [s.strip() for s in show.group(1).split(",") if s.strip()]
            if not names or not all(re.fullmatch(r"[A-Za-z_]\w*", s) for s in names):
                raise ParseError("expected names separated by commas after `show =`")
            self.show = (names, line)
            self.canonical.append("show = " + ", ".join(names))
            return
        parser = Parser(tokenize(text))
        name_tok = parser.peek
        if name_tok.kind != "name":
            parser.fail("expected a name at the start of the statement")
        parser.take()
        plates, letters = self._lhs_indices(parser) if parser.at("[") else ([], [])
        if not parser.at("=", "~"):
            parser.fail("expected '=' or '~' after the name")
        relation = parser.take().text
        name = name_tok.text
        if relation == "=" and not plates and self.origin == "sim" and name in OPTIONS:
            expr = parser.expression()
            parser.expect_end()
            self.options["n" if name == "draws" else name] = (expr, line)
            self.canonical.append(f"{name} = {format_expr(expr)}")
            return
        node = Node(name=name, kind="deterministic", line=line, source=text,
                    plate=",".join(plates) or None, index=",".join(letters) or None)
        if relation == "=":
            node.expr = parser.expression()
            parser.expect_end()
        else:
            self._distribution(parser, node)
        self._define(node)

    def _lhs_indices(self, parser: Parser) -> tuple[list[str], list[str]]:
        parser.take()
        plates: list[str] = []
        letters: list[str] = []
        while True:
            tok = parser.peek
            if tok.kind == "num":
                if float(tok.text) != 1:
                    raise ParseError("ranges start at 1 (write 1..J)", tok.col)
                parser.take()
                parser.expect("..", "'..' in a range such as 1..J")
                size = parser.peek
                if size.kind != "name":
                    parser.fail("expected a size name after '..' (set it first, e.g. J = 8)")
                parser.take()
                letter = size.text.lower()
                if letter == size.text:
                    raise ParseError(f"a plate size is a capitalised name (1..{size.text.upper()},"
                                     f" with index {letter})", size.col)
                self.index_plates[letter] = size.text
                plates.append(size.text)
                letters.append(letter)
            elif tok.kind == "name":
                parser.take()
                if tok.text != tok.text.lower():
                    raise ParseError(f"write the index in lower case ([{tok.text.lower()}]) "
                                     f"or as a range ([1..{tok.text}])", tok.col)
                plates.append(self.index_plates.get(tok.text, tok.text.upper()))
                letters.append(tok.text)
            else:
                parser.fail("expected an index letter or a range 1..J")
            if parser.at(","):
                parser.take()
                continue
            parser.expect("]", "']' after the index")
            break
        if len(plates) > 2:
            raise ParseError("at most two indices (nested plates) are supported")
        if len(set(letters)) != len(letters):
            raise ParseError("the same index is used twice")
        return plates, letters

    def _distribution(self, parser: Parser, node: Node) -> None:
        start = parser.peek
        if start.kind != "name":
            parser.fail("expected a distribution such as Normal(0, 1) after '~'")
        words = [parser.take().text]
        while parser.at("-") and parser.tokens[parser.pos + 1].kind == "name":
            parser.take()
            words.append(parser.take().text)
        written = "-".join(words)
        dist = distributions.lookup(written)
        if dist is None:
            known = ", ".join(distributions.REGISTRY)
            raise ParseError(f"unknown distribution '{written}' (expected one of {known})",
                             start.col)
        parser.expect("(", f"'(' and the arguments of {dist.name}")
        arguments = parser.call_arguments()
        parser.expect_end()
        positional = [e for k, e in arguments if k is None]
        keywords = [(k, e) for k, e in arguments if k is not None]
        if any(k is None for k, _ in arguments[len(positional):]):
            raise ParseError("positional arguments must come before keyword arguments")
        try:
            node.args = distributions.resolve_args(dist, positional, keywords)
        except ValueError as exc:
            raise ParseError(str(exc), start.col) from None
        node.dist = dist.name
        node.kind = "stochastic"

    def _check(self, text: str, line: int) -> Check:
        tokens = tokenize(text)
        depth, splits = 0, []
        for k, tok in enumerate(tokens):
            if tok.text in ("(", "["):
                depth += 1
            elif tok.text in (")", "]"):
                depth -= 1
            elif depth == 0 and tok.kind == "op" and (tok.text in RELATIONS or tok.text == "="):
                splits.append(k)
        if len(splits) != 1:
            raise ParseError("expected one relation (≈, ~=, <, >, <=, >=) in a check, "
                             "e.g. check: var(X) ≈ lambda + sigma^2")
        k = splits[0]
        end = Token("end", "", len(text))
        sides = []
        for part in (tokens[:k] + [end], tokens[k + 1:]):
            parser = Parser(part)
            sides.append(parser.expression())
            parser.expect_end("an operator or the end of the check")
        relation = {"~=": "≈", "==": "≈", "=": "≈", "≤": "<=", "≥": ">="}.get(
            tokens[k].text, tokens[k].text)
        return Check(line=line, text=text, lhs=sides[0], rhs=sides[1], relation=relation)

    def _define(self, node: Node) -> None:
        self.canonical.append(node.source)
        earlier = self.defs.get(node.name)
        if earlier is None:
            self.defs[node.name] = [node]
            return
        first = earlier[0]
        if (len(earlier) == 1 and node.kind == "stochastic" and first.expr is not None
                and not names_in(first.expr) and node.name not in self.observed_exprs):
            self.observed_exprs[node.name] = first.expr
            self.defs[node.name] = [node]
            return
        if self.origin == "latex":
            earlier.append(node)
            return
        self.error(node.line, f"{node.name} is already defined at line {first.line}; "
                              "give the new variable another name")

    # ---- the whole model -------------------------------------------------------------------

    def finish(self) -> tuple[ModelSpec | None, list[Diagnostic]]:
        primaries = [defs[0] for defs in self.defs.values()]
        seconds = [d for defs in self.defs.values() for d in defs[1:]]
        for node in primaries + seconds:
            node.parents = self._parents(node)
        defaults = self._free_names(primaries + seconds)
        primaries = defaults + primaries
        moved = _alternative_only(primaries, seconds, self._pinned())
        main = [n for n in primaries if n.name not in moved]
        ordered, cyclic = topological_order(main)
        for node in cyclic:
            self.error(node.line, f"{node.name} depends on itself through "
                                  f"{', '.join(p for p in node.parents if p in {c.name for c in cyclic})}")
        spec = ModelSpec(path=self.path, line=self.first_line, origin=self.origin)  # type: ignore[arg-type]
        spec.defaults = {n.name: float(n.value) for n in defaults}  # type: ignore[arg-type]
        self._resolve(ordered, spec)
        spec.alternatives = self._alternatives(seconds, primaries, moved, spec)
        self._options(spec)
        self._validate_checks(spec)
        self._bound_elements(spec)
        spec.source_text = "\n".join(self.canonical)
        self.diagnostics.sort(key=lambda d: d.line)
        if any(d.severity == "error" for d in self.diagnostics) or not spec.nodes:
            return None, self.diagnostics
        return spec, self.diagnostics

    def _parents(self, node: Node) -> list[str]:
        letters = set(indices_of(node))
        found: list[str] = []
        for expr in node_exprs(node) + ([self.observed_exprs[node.name]]
                                        if node.name in self.observed_exprs else []):
            for name in names_in(expr):
                if name not in letters and name not in found:
                    found.append(name)
        return found

    def _pinned(self) -> set[str]:
        """Names the checks and `show` read: they stay in the main model."""
        pinned = set(self.show[0]) if self.show else set()
        for check in self.checks:
            pinned.update(names_in(check.lhs) + names_in(check.rhs))
        return pinned

    def _free_names(self, nodes: list[Node]) -> list[Node]:
        """Names used but never defined: an error in a sim block, a default from LaTeX."""
        defined = set(self.defs)
        first_use: dict[str, tuple[int, bool]] = {}
        for node in sorted(nodes, key=lambda n: n.line):
            for name in node.parents:
                if name not in defined and name not in BUILTIN_CONSTANTS:
                    first_use.setdefault(name, (node.line, False))
            for plate in plates_of(node):
                if plate not in defined:
                    first_use.setdefault(plate, (node.line, True))
        defaults = []
        for name, (line, is_plate) in first_use.items():
            if name in self.broken:
                continue
            if self.origin == "latex":
                value = DEFAULT_PLATE if is_plate else DEFAULT_VALUE
                defaults.append(Node(name=name, kind="const", line=line, source=f"{name} = {value:g}",
                                     value=float(value), expr=Expr("num", value=float(value))))
                self.diagnostics.append(Diagnostic(
                    self.path, line, "info",
                    f"{name} has no value; using {value:g} (set it in a sim block)"))
            elif name in OPTIONS:
                self.error(line, f"'{name}' is the number of draws in a sim block, not a "
                                 "variable; use another name (e.g. N or trials)")
            elif is_plate:
                self.error(line, f"plate size {name} is not defined; set it first, e.g. {name} = 8")
            else:
                self.error(line, f"unknown name '{name}'; define it first, e.g. {name} = 1")
        return defaults

    def _resolve(self, ordered: list[Node], spec: ModelSpec) -> None:
        """Kinds, constant values, observed data and constant-argument support checks."""
        values: dict[str, Val] = {}
        kinds: dict[str, str] = {}
        for node in ordered:
            if any(p in self.broken or p not in kinds for p in node.parents
                   if p not in BUILTIN_CONSTANTS):
                continue
            if self._resolve_node(node, values, kinds):
                kinds[node.name] = node.kind
                spec.nodes[node.name] = node

    def _resolve_node(self, node: Node, values: dict[str, Val], kinds: dict[str, str]) -> bool:
        sizes = self._plate_sizes(node, values)
        if sizes is None:
            return False
        evaluator = Evaluator(values, dict(zip(indices_of(node), plates_of(node))), sizes)
        random = any(kinds.get(p) in ("stochastic", "deterministic") for p in node.parents)
        try:
            if node.kind == "stochastic":
                if node.name in self.observed_exprs:
                    node.observed = self._observed(node, evaluator, sizes)
                if not random:
                    self._check_constant_args(node, evaluator)
                return True
            if random:
                node.kind = "deterministic"
                return True
            val = evaluator.eval(node.expr)  # type: ignore[arg-type]
        except EvalError as exc:
            self.error(node.line, f"{node.name}: {exc}")
            return False
        arr = _layout(val, plates_of(node), sizes)
        node.kind = "const" if arr.ndim == 0 else "data"
        node.value = float(arr) if arr.ndim == 0 else arr
        values[node.name] = value_of(node) if node.plate or arr.ndim == 0 else Val(arr[None], val.axes)
        return True

    def _plate_sizes(self, node: Node, values: dict[str, Val]) -> dict[str, int] | None:
        sizes = {}
        for plate in plates_of(node):
            val = values.get(plate)
            if val is None:
                return None          # undefined or broken: reported where it is used
            size = float(val.array.reshape(-1)[0]) if val.array.size == 1 else None
            if size is None or size != round(size) or size < 1:
                self.error(node.line, f"plate size {plate} must be a whole number >= 1")
                return None
            if size > MAX_PLATE:
                self.error(node.line, f"plate size {plate} = {size:g} is too large "
                                      f"(at most {MAX_PLATE})")
                return None
            sizes[plate] = int(size)
        return sizes

    def _observed(self, node: Node, evaluator: Evaluator, sizes: dict[str, int]) -> np.ndarray:
        data = evaluator.eval(self.observed_exprs[node.name]).array[0]
        want = tuple(sizes[p] for p in plates_of(node))
        if data.shape != want:
            raise EvalError(f"the data has shape {data.shape} but {node.name} runs over "
                            f"{' × '.join(plates_of(node)) or 'no plate'} = {want}")
        return data

    def _check_constant_args(self, node: Node, evaluator: Evaluator) -> None:
        dist = distributions.REGISTRY[node.dist]  # type: ignore[index]
        for param in dist.params:
            val = evaluator.eval(node.args[param.name])
            why = distributions.support_violation(param, _vector_last(val, param.vector))
            if why:
                raise EvalError(f"{dist.name} {why}")

    def _alternatives(self, seconds: list[Node], primaries: list[Node], moved: set[str],
                      spec: ModelSpec) -> list[list[Node]]:
        """Each second definition with the nodes only it uses, in dependency order."""
        result = []
        by_name = {n.name: n for n in primaries}
        for second in seconds:
            first = spec.nodes.get(second.name)
            if first is None:
                continue
            own = _ancestors(second, by_name) & moved
            group = [by_name[name] for name in by_name if name in own] + [second]
            ordered, cyclic = topological_order(group)
            for node in cyclic:
                self.error(node.line, f"{node.name} depends on itself")
            kinds = {n.name: n.kind for n in spec.nodes.values()}
            for node in ordered:
                if node.kind != "stochastic":
                    random = any(kinds.get(p) in ("stochastic", "deterministic")
                                 for p in node.parents)
                    node.kind = "deterministic" if random else "const"
                kinds[node.name] = node.kind
            if first.kind == "const" and second.kind == "const":
                self._compare_constants(first, second, spec)
                continue
            result.append(ordered)
        return result

    def _compare_constants(self, first: Node, second: Node, spec: ModelSpec) -> None:
        values = {n.name: value_of(n) for n in spec.nodes.values() if n.value is not None}
        try:
            second_value = Evaluator(values).eval(second.expr).array  # type: ignore[arg-type]
        except EvalError as exc:
            self.error(second.line, f"{second.name}: {exc}")
            return
        if not np.allclose(second_value, np.asarray(first.value)):
            self.diagnostics.append(Diagnostic(
                self.path, second.line, "warning",
                f"{second.name} is {format_expr(second.expr)} here but {first.value:g} at line "  # type: ignore[arg-type]
                f"{first.line}; the first value is used"))

    def _options(self, spec: ModelSpec) -> None:
        values = {n.name: value_of(n) for n in spec.nodes.values() if n.value is not None}
        for name, (expr, line) in self.options.items():
            try:
                val = Evaluator(values).eval(expr)
            except EvalError as exc:
                self.error(line, f"{name}: {exc} (options take numbers or constants)")
                continue
            value = float(val.array.reshape(-1)[0]) if val.array.size == 1 else float("nan")
            if name == "n":
                if not (value == round(value) and 1 <= value <= MAX_DRAWS):
                    self.error(line, f"n must be a whole number from 1 to {MAX_DRAWS:,}")
                    continue
                spec.n = int(value)
            else:
                if not (value == round(value) and 0 <= value < 2**63):
                    self.error(line, "seed must be a whole number >= 0")
                    continue
                spec.seed = int(value)
        if self.show:
            names, line = self.show
            missing = [s for s in names if s not in spec.nodes]
            if missing:
                self.error(line, f"show: unknown name(s) {', '.join(missing)}")
            spec.show = names
        else:
            spec.show = None

    def _validate_checks(self, spec: ModelSpec) -> None:
        for check in self.checks:
            missing = [s for s in names_in(check.lhs) + names_in(check.rhs)
                       if s not in spec.nodes and s not in BUILTIN_CONSTANTS]
            if missing:
                if not set(missing) & self.broken:
                    self.error(check.line, f"check: unknown name(s) {', '.join(missing)}")
                continue
            spec.checks.append(check)

    def _bound_elements(self, spec: ModelSpec) -> None:
        """Bound what drawing the model's unknowns allocates: n draws of every random node.

        Observed nodes are data, not draws: a model with data is fitted, and a fit holds its
        data once plus chains × draws of the unknowns (`notecards.infer` bounds those against
        its own chains and draws). Counting n × the data would reject a 100-group ×
        50-observation hierarchy whose fit needs a few MB."""
        total = 0
        for node in spec.nodes.values():
            if node.kind in ("stochastic", "deterministic") and node.observed is None:
                size = 1
                for plate in plates_of(node):
                    size *= int(spec.nodes[plate].value)  # type: ignore[arg-type]
                total += size
                if spec.n * total > MAX_ELEMENTS:
                    self.error(node.line, f"too many values to simulate: n = {spec.n:,} draws "
                                          f"× {total:,} elements per draw exceeds "
                                          f"{MAX_ELEMENTS:,}; lower n or the plate sizes")
                    return


def _layout(val: Val, plates: list[str], sizes: dict[str, int]) -> np.ndarray:
    """A constant's array with plate axes first (in the node's order), as written otherwise."""
    axes = tuple(plates) + tuple(a for a in val.axes if a not in plates)
    arr = expand(val, axes)[0]
    full = tuple(sizes[p] for p in plates) + arr.shape[len(plates):]
    return np.array(np.broadcast_to(arr, full))


def _vector_last(val: Val, vector: bool) -> np.ndarray:
    """Values for a support check; a vector argument keeps its vector axis last."""
    if not vector:
        return val.array
    anonymous = [k for k, a in enumerate(val.axes) if a.startswith("#")]
    if not anonymous:
        raise EvalError("expected a vector such as [0.2, 0.3, 0.5]")
    return np.moveaxis(val.array, anonymous[-1] + 1, -1)


def _ancestors(node: Node, by_name: dict[str, Node]) -> set[str]:
    seen: set[str] = set()
    stack = list(node.parents)
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend(by_name[name].parents)
    return seen


def _alternative_only(primaries: list[Node], seconds: list[Node], pinned: set[str]) -> set[str]:
    """Primary nodes that only second definitions use (e.g. ε in X = θ + ε): they belong with
    the alternative, not in the main model's figures."""
    by_name = {n.name: n for n in primaries}
    candidates: set[str] = set()
    for second in seconds:
        candidates |= _ancestors(second, by_name)
    candidates -= pinned
    candidates -= {s.name for s in seconds}
    changed = True
    while changed:
        changed = False
        for name in sorted(candidates):
            users = [n for n in primaries if name in n.parents or name in plates_of(n)]
            if any(u.name not in candidates for u in users):
                candidates.discard(name)
                changed = True
    return candidates
