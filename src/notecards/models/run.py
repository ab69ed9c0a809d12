"""Running a vault's simulations: seeds, a content-hash cache, and a pool of warm workers.

- A card's seed derives from its model's own content (the same canonical dump the cache key
  hashes) through `numpy.random.SeedSequence`, unless the model sets `seed`; never from the
  card's identity. So a card draws the same numbers on every run and every machine, the same
  model on two cards is one figure file, and writing an ID line (sync), moving the card or
  editing its other text never redraws it.
- The cache key hashes everything that shapes a card's output: the model (its canonical text
  and a dump of its nodes, checks and options without line numbers), the seed, n, the figure
  options, the notecards, numpy, scipy and matplotlib versions (read from package metadata,
  never by importing them; matplotlib's for the DejaVu Sans file that measures the figures'
  text) and the source of the `notecards.sim` modules that draw and describe, so a
  change in drawing code never serves a stale figure. The figure's file name is that hash.
- The cache lives in the vault's `.notecards/sims/`: `<key>.json` (caption HTML, diagnostics,
  check counts, figure names) next to the figure files. Diagnostics are stored relative to the
  block's line, so a card that moves in its note keeps its cache and its diagnostics still point
  at the right line. A run whose every job hits the cache neither imports scipy nor
  simulates; deleting the folder loses nothing but time.
- Jobs that need rendering go to a pool of worker processes (`models.workers`) that import numpy
  and scipy once: the caller's pool when it started one early (the export does, so the
  imports overlap its rendering), else one started here; a single job without a pool renders in
  this process instead, since starting a pool then would cost more than it.
- A job that raises becomes an error diagnostic on that card; the other jobs go on. Such a
  failure is not cached, so the next run tries again.
- A model with data is fitted (`notecards.infer.fit`) instead of simulated: the same seed from
  the model's content, the same cache (its key adds the fit options and the source of
  `notecards.infer`, which only fitted cards depend on), the same pool. Its figures (posterior,
  shrinkage, trace, posterior predictive) are named by that key and their kind; its caption is
  the posterior table with R-hat and ESS; its convergence warnings (R-hat > 1.01, ESS < 400,
  no convergence within the draws) are diagnostics on the card, cached with it, and the rest of
  the export goes on. A fitted card does not also show the prior simulation (see `models.find`).
- ```python sim blocks run only when code is allowed, in the sandbox; their PNG/SVG files become
  figures named by the hash of their bytes. Without permission the card gets a warning.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import sys
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import notecards
from notecards.atomic import write_atomic
from notecards.models.jobs import CodeLimits, Figure, SimJob, SimOutcome
from notecards.sim.figure_options import FIGURE_OPTIONS
from notecards.sim.model import ModelSpec
from notecards.sim.numerics import quiet_numerics
from notecards.types import Diagnostic

if TYPE_CHECKING:
    from notecards.models.workers import WorkerPool

CACHE_FORMAT = 2
# the modules (relative to the notecards package) whose code shapes a card's draws, figure or caption
# (a folder stands for every module in it)
OUTPUT_MODULES = ("models/run.py", "sim/distributions", "sim/expr", *(f"sim/{name}.py" for name in (
    "figure_options", "figures", "closed_form", "describe", "sample", "checks", "compare",
    "caption", "labels", "model_graph", "style", "claims", "svg", "panel")))
ALLOW_CODE_HINT = "python sim block skipped: run with --allow-code"


@dataclass
class _Rendered:
    """What a worker sends back: the parts of an outcome that the cache stores."""

    html: str
    figures: list[Figure] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: int = 0


# ---------------------------------------------------------------- seeds and cache keys

def seed_entropy(job: SimJob) -> int:
    """The entropy of the card's SeedSequence: the model's own `seed`, else a hash of the model's
    content (never the card's guid, path or line, which change when sync writes an ID line or the
    card moves, while the model — and so its figure — stays the same)."""
    if job.spec is not None and job.spec.seed is not None:
        return int(job.spec.seed)
    content = canonical(job.spec) if job.spec is not None else job.code
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=repr)
    return int.from_bytes(hashlib.sha256(f"notecards-sim:{text}".encode()).digest()[:16], "big")


def environment() -> dict[str, str]:
    """Versions and our own source: what shapes the output besides the card."""
    env = {"notecards": notecards.__version__}
    for dist in ("numpy", "scipy", "matplotlib"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "absent"
    h = hashlib.sha256()
    package = Path(notecards.__file__).parent
    for module in OUTPUT_MODULES:
        for path in sorted((package / module).glob("*.py")) if (package / module).is_dir() else [package / module]:
            if path.is_file():
                h.update(path.relative_to(package).as_posix().encode())
                h.update(path.read_bytes())
    env["sim-source"] = h.hexdigest()
    h = hashlib.sha256()
    for path in sorted((package / "infer").glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    env["infer-source"] = h.hexdigest()
    return env


def canonical(value: Any) -> Any:
    """A JSON-able, order-stable dump of model objects, leaving out line numbers and paths
    (they move when the note is edited above the card, and do not change the draws)."""
    if is_dataclass(value):
        return {f.name: canonical(getattr(value, f.name)) for f in fields(value)
                if f.name not in ("line", "path")}
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float):
        return repr(value)
    return value


def cache_key(job: SimJob, environment: dict[str, str], code: CodeLimits | None) -> str:
    """A simulated card's key leaves out the fit and `notecards.infer`, so editing the fitting
    code does not re-render every simulation in the vault."""
    env = dict(environment)
    if job.fit is None:
        env.pop("infer-source", None)
    payload = {
        "format": CACHE_FORMAT,
        "env": env,
        "figure": asdict(FIGURE_OPTIONS),
        "seed": str(seed_entropy(job)),
        "spec": canonical(job.spec) if job.spec is not None else None,
        "code": job.code if code is not None else None,
    }
    if job.fit is not None:
        payload["fit"] = asdict(job.fit)
    if job.code is not None and code is not None:
        payload["limits"] = asdict(code)
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def figure_name(key: str, suffix: str = ".svg") -> str:
    return f"nc-sim-{key[:20]}{suffix}"


def fit_figure_name(key: str, kind: str) -> str:
    """A fitted card's figure of one kind ("posterior", "trace", …), named by the card's key."""
    return f"nc-fit-{kind}-{key[:20]}.svg"


# ---------------------------------------------------------------- the cache on disk

def _load_cached(job: SimJob, key: str, cache_dir: Path) -> SimOutcome | None:
    entry = cache_dir / f"{key}.json"
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT:
            return None
        figures = [Figure(name, (cache_dir / name).read_bytes()) for name in data["figures"]]
        diagnostics = [Diagnostic(job.path, job.line + d["offset"], d["severity"], d["message"], d.get("col", 0))
                       for d in data["diagnostics"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return SimOutcome(job.key, data["html"], figures, diagnostics, rendered=False,
                      checks_passed=int(data["checks_passed"]), checks_failed=int(data["checks_failed"]))


def _store(job: SimJob, key: str, cache_dir: Path, rendered: _Rendered) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    for fig in rendered.figures:
        write_atomic(cache_dir / fig.name, fig.data)
    entry = {
        "format": CACHE_FORMAT,
        "html": rendered.html,
        "figures": [f.name for f in rendered.figures],
        "diagnostics": [{"offset": d.line - job.line, "col": d.col, "severity": d.severity, "message": d.message}
                        for d in rendered.diagnostics],
        "checks_passed": rendered.checks_passed,
        "checks_failed": rendered.checks_failed,
    }
    write_atomic(cache_dir / f"{key}.json", json.dumps(entry, ensure_ascii=False, indent=1).encode("utf-8"))


# ---------------------------------------------------------------- rendering one job

def _warm_worker(fits: bool = False) -> None:
    """Pool initializer: pay for the heavy imports once per worker, not once per card.

    A failed import is left for the jobs to meet again: each then becomes a diagnostic on its
    card, where an exception here would only break the pool. Ctrl-C is the main process's."""
    from notecards.interrupt import quiet_worker

    quiet_worker()
    try:
        import scipy.stats  # noqa: F401

        import notecards.sim.figures  # noqa: F401
        import notecards.sim.sample  # noqa: F401
        if fits:
            import notecards.infer.figures  # noqa: F401
            import notecards.infer.fit  # noqa: F401
    except Exception:  # noqa: BLE001 - reported per card by render_job
        return


def render_job(job: SimJob, key: str, code: CodeLimits | None) -> _Rendered:
    """Simulate and draw one card (in a worker, or here for a single job); `code` None means
    python sim blocks are not allowed."""
    parts: list[_Rendered] = []
    with quiet_numerics():
        if job.spec is not None and job.fit is not None:
            parts.append(draw_fit(job.spec, fit_job(job), key))
        elif job.spec is not None:
            parts.append(draw_result(*simulate_job(job), key))
    if job.code is not None:
        parts.append(_run_code(job, code) if code is not None else
                     _Rendered("", diagnostics=[Diagnostic(job.path, job.line, "warning", ALLOW_CODE_HINT)]))
    out = _Rendered("\n".join(p.html for p in parts if p.html))
    for part in parts:
        out.figures += part.figures
        out.diagnostics += part.diagnostics
        out.checks_passed += part.checks_passed
        out.checks_failed += part.checks_failed
    return out


def simulate_job(job: SimJob):
    """The card's draws, seeded from its model: (SimResult | None, diagnostics)."""
    import numpy as np

    from notecards.sim.sample import simulate

    assert job.spec is not None
    return simulate(job.spec, np.random.SeedSequence(seed_entropy(job)))


def draw_result(result, diagnostics: list[Diagnostic], key: str) -> _Rendered:
    """Figure and caption of a simulated model; a model that could not be simulated has neither."""
    from notecards.sim import figures
    from notecards.sim.claims import check_claims
    from notecards.sim.closed_form import closed_form

    out = _Rendered("", diagnostics=list(diagnostics))
    if result is None:
        return out
    cf = closed_form(result.spec)
    name = figure_name(key)
    claims, claim_diagnostics = check_claims(result.spec, int(key[:8], 16))
    out.diagnostics += claim_diagnostics
    out.figures.append(Figure(name, figures.render_figure(result, cf, FIGURE_OPTIONS)))
    out.html = figures.figure_caption(result, name, FIGURE_OPTIONS, claims)
    out.checks_passed = sum(1 for c in result.checks if c.passed) + sum(1 for c in claims if c.agree)
    out.checks_failed = sum(1 for c in result.checks if not c.passed) + sum(1 for c in claims if c.agree is False)
    return out


def fit_job(job: SimJob):
    """The card's posterior, seeded from its model like a simulation: a `FitResult`."""
    import numpy as np

    from notecards.infer import fit

    assert job.spec is not None and job.fit is not None
    options = job.fit
    return fit(job.spec, np.random.SeedSequence(seed_entropy(job)), chains=options.chains,
               draws=options.draws, warmup=options.warmup,
               empirical_bayes=options.method == "empirical_bayes")


def draw_fit(spec: ModelSpec, result, key: str) -> _Rendered:
    """Figures and caption of a fitted model; its diagnostics are the fit's warnings."""
    from notecards.infer.figures import fit_card_html, fit_figures

    drawn = fit_figures(spec, result)
    figures = [Figure(fit_figure_name(key, kind), data) for kind, data in drawn]
    html_text = fit_card_html(spec, result, [(kind, f.name) for (kind, _), f in zip(drawn, figures)])
    return _Rendered(html_text, figures, list(result.diagnostics))


def _run_code(job: SimJob, limits: CodeLimits) -> _Rendered:
    """A ```python sim block in the sandbox; only its PNG and SVG files come back."""
    from notecards.sim.sandbox import run_python_sim

    assert job.code is not None
    result = run_python_sim(job.code, timeout=limits.timeout_s, memory_mb=limits.memory_mb)
    out = _Rendered("")
    if result.error:
        last = result.stderr_tail.strip().splitlines()[-1][:300] if result.stderr_tail.strip() else ""
        tail = f" ({last})" if last else ""
        out.diagnostics.append(Diagnostic(job.path, job.line, "error", f"python sim block failed: {result.error}{tail}"))
    for filename in sorted(result.files):
        suffix = Path(filename).suffix.lower()
        if suffix in (".png", ".svg"):
            data = result.files[filename]
            out.figures.append(Figure(figure_name(hashlib.sha256(data).hexdigest(), suffix), data))
    if not out.figures and not result.error:
        out.diagnostics.append(Diagnostic(job.path, job.line, "warning",
                                          "python sim block wrote no PNG or SVG file"))
    out.html = "\n".join(
        f'<figure class="nc-sim nc-sim-python"><img src="{html.escape(f.name)}" alt="output of the python sim block">'
        f"</figure>" for f in out.figures)
    return out


# ---------------------------------------------------------------- the run

def run_simulations(jobs: list[SimJob], cache_dir: Path, *, workers: int = 2, progress: bool = False,
                    allow_code: bool = False, code_limits: CodeLimits = CodeLimits(),
                    store: bool = True, pool: "WorkerPool | None" = None) -> list[SimOutcome]:
    """Outcomes for every job, in job order: from the cache where possible, rendered otherwise
    (in `pool` when given: its workers may have been warming up while the caller worked).
    With `store` False (notecards check) new results are not written to the cache."""
    code = code_limits if allow_code else None
    env = environment()
    outcomes: dict[int, SimOutcome] = {}
    pending: list[tuple[int, SimJob, str]] = []
    twins: dict[str, list[tuple[int, SimJob]]] = {}
    for i, job in enumerate(jobs):
        if job.code is not None and job.spec is None and not allow_code:
            outcomes[i] = SimOutcome(job.key, "", [], [Diagnostic(job.path, job.line, "warning", ALLOW_CODE_HINT)],
                                     rendered=False)
            continue
        key = cache_key(job, env, code)
        cached = _load_cached(job, key, cache_dir)
        if cached is not None:
            outcomes[i] = cached
        elif key in twins:
            twins[key].append((i, job))
        else:
            twins[key] = []
            pending.append((i, job, key))
    for i, job, key, rendered in _render_all(pending, workers, progress, code, pool):
        for twin, twin_job in twins[key]:      # the same model on another card: drawn once
            outcomes[twin] = _outcome(twin_job, rendered, drawn_for=job)
        if store and not isinstance(rendered, BaseException):
            _store(job, key, cache_dir, rendered)
        outcomes[i] = _outcome(job, rendered)
    return [outcomes[i] for i in range(len(jobs))]


def workers_for(jobs: list[SimJob], cache_dir: Path, *, workers: int, allow_code: bool = False,
                code_limits: CodeLimits = CodeLimits()) -> "WorkerPool | None":
    """A pool started now for the jobs whose figures are not in the cache (a worker per such
    model, up to `workers` and the cores); None when fewer than two figures are missing: a lone
    figure is drawn in the caller's process, since spawning a worker costs it more (~0.4 s CPU)
    than the little work left to overlap can hide (measured in benchmarks/bench_sim.py)."""
    env, code = environment(), code_limits if allow_code else None
    keys = {cache_key(job, env, code): job for job in jobs if job.spec is not None or allow_code}
    missing = [job for key, job in keys.items() if not (cache_dir / f"{key}.json").is_file()]
    several = min(workers, len(missing), os.cpu_count() or 1) > 1
    return _start_pool(missing, workers) if several else None


def _start_pool(jobs: list[SimJob], workers: int) -> "WorkerPool":
    from notecards.models.workers import WorkerPool

    fits = any(job.fit is not None for job in jobs)
    return WorkerPool(min(workers, len(jobs), os.cpu_count() or 1), _warm_worker, (fits,))


def _outcome(job: SimJob, rendered: "_Rendered | BaseException", drawn_for: SimJob | None = None) -> SimOutcome:
    """A freshly rendered job's outcome; its diagnostics point at this job's own lines, also when
    it was drawn for a twin card elsewhere (`drawn_for`)."""
    if isinstance(rendered, BaseException):
        return SimOutcome(job.key, "", [], [Diagnostic(
            job.path, job.line, "error", f"simulation failed: {type(rendered).__name__}: {rendered}")],
            rendered=True)
    diagnostics = rendered.diagnostics
    if drawn_for is not None:
        diagnostics = [Diagnostic(job.path, d.line - drawn_for.line + job.line, d.severity, d.message, d.col)
                       for d in diagnostics]
    return SimOutcome(job.key, rendered.html, rendered.figures, diagnostics, rendered=True,
                      checks_passed=rendered.checks_passed, checks_failed=rendered.checks_failed)


def _render_all(pending: list[tuple[int, SimJob, str]], workers: int, progress: bool,
                code: CodeLimits | None, pool: "WorkerPool | None" = None):
    """Yield (index, job, key, _Rendered or the exception it raised) as jobs finish: in `pool`, in
    a pool started here for several jobs, or in this process."""
    if not pending:
        return
    index = {id(job): i for i, job, _ in pending}
    tasks = [(job, key, code) for _, job, key in pending]
    several = min(workers, len(tasks), os.cpu_count() or 1) > 1
    own = _start_pool([job for job, _, _ in tasks], workers) if pool is None and several else None
    bar = _progress_bar(len(pending)) if progress else None
    try:
        running = pool or own
        done = running.completed(render_job, tasks) if running else ((task, _render_here(*task)) for task in tasks)
        for (job, key, _), rendered in done:
            if bar is not None:
                bar.update(1)
            yield index[id(job)], job, key, rendered
    finally:
        if own is not None:
            own.close()
        if bar is not None:
            bar.close()


def _render_here(job: SimJob, key: str, code: CodeLimits | None) -> "_Rendered | Exception":
    try:
        return render_job(job, key, code)
    except Exception as exc:  # a broken card must not stop the others
        return exc


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="simulations", unit="card", file=sys.stderr, leave=False)
