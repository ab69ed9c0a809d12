"""The expression evaluator: `Expr` trees walked over numpy arrays with named axes (`Val`), as the
package's docstring describes; nothing a note says reaches `eval`/`exec`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from notecards.sim.expr.format import format_expr
from notecards.sim.model import Expr

MAX_ELEMENTS = 20_000_000       # values in one array (draws × elements), float64: ≤ 160 MB


class EvalError(ValueError):
    """An expression that parsed but cannot be evaluated (shapes, unknown function …)."""


@dataclass
class Val:
    """An evaluated expression: draws on axis 0 (n or 1), named axes after it."""

    array: np.ndarray
    axes: tuple[str, ...] = ()

    @staticmethod
    def constant(value: float | np.ndarray) -> "Val":
        """A constant or data array; each of its axes is an anonymous vector axis."""
        arr = np.asarray(value, dtype=float)
        return Val(arr[None, ...], tuple(f"#{k + 1}" for k in range(arr.ndim)))

    def sizes(self) -> dict[str, int]:
        return dict(zip(self.axes, self.array.shape[1:]))


def align(vals: list[Val]) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Arrays of `vals` laid out on the union of their axes, ready for numpy broadcasting."""
    axes: list[str] = []
    sizes: dict[str, int] = {}
    for v in vals:
        for name, size in zip(v.axes, v.array.shape[1:]):
            if name not in sizes:
                axes.append(name)
                sizes[name] = size
            elif size != sizes[name] and 1 not in (size, sizes[name]):
                raise EvalError(_mismatch(name, sizes[name], size))
            else:
                sizes[name] = max(size, sizes[name])
    draws = max(v.array.shape[0] for v in vals)
    if draws * math.prod(sizes.values()) > MAX_ELEMENTS:
        raise EvalError(f"too many values ({draws:,} draws × {math.prod(sizes.values()):,} "
                        f"elements exceeds {MAX_ELEMENTS:,}); lower n or the plate sizes")
    return [expand(v, tuple(axes)) for v in vals], tuple(axes)


def _mismatch(axis: str, a: int, b: int) -> str:
    if axis.startswith("#"):
        return f"vectors of lengths {a} and {b} do not match"
    return f"plate {axis} has {a} elements in one place and {b} in another"


def expand(v: Val, axes: tuple[str, ...]) -> np.ndarray:
    """`v`'s array with axes reordered to `axes` and size-1 axes for those it lacks."""
    if v.axes == axes:
        return v.array
    order = sorted(range(len(v.axes)), key=lambda k: axes.index(v.axes[k]))
    arr = v.array.transpose([0] + [k + 1 for k in order])
    own = v.sizes()
    shape = [arr.shape[0]] + [own.get(a, 1) for a in axes]
    return arr.reshape(shape)


def _reduce(name: str, fn: Callable[..., np.ndarray], v: Val) -> Val:
    """Reduce over every named axis: one value per draw."""
    if not v.axes:
        if name in ("var", "sd"):
            raise EvalError(f"{name}() of a single value per draw: a variance over the draws "
                            "belongs in a check: line")
        return v
    flat = v.array.reshape(v.array.shape[0], -1)
    return Val(fn(flat, axis=1))


def _sample_var(flat: np.ndarray, axis: int) -> np.ndarray:
    return np.var(flat, axis=axis, ddof=1)


def _sample_sd(flat: np.ndarray, axis: int) -> np.ndarray:
    return np.std(flat, axis=axis, ddof=1)


def _special(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """A scipy.special function, imported when a model first calls it: parsing a model must not
    pay scipy's import time."""
    def call(a: np.ndarray) -> np.ndarray:
        from scipy import special
        return getattr(special, name)(a)
    return call


ELEMENTWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "log1p": np.log1p,
    "expm1": np.expm1, "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh,
    "floor": np.floor, "ceil": np.ceil, "round": np.round, "log10": np.log10, "log2": np.log2,
    "logit": _special("logit"), "invlogit": _special("expit"), "expit": _special("expit"),
    "logistic": _special("expit"), "Phi": _special("ndtr"),
    "not": lambda a: (a == 0).astype(float),
}
REDUCTIONS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "min": np.min, "max": np.max,
    "var": _sample_var, "sd": _sample_sd,
}
FUNCTIONS = sorted(set(ELEMENTWISE) | set(REDUCTIONS) | {"pow", "len"})
BUILTIN_CONSTANTS = {"pi": math.pi}

_ARITH: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power,
    "<": np.less, ">": np.greater, "<=": np.less_equal, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
    "and": lambda a, b: (a != 0) & (b != 0), "or": lambda a, b: (a != 0) | (b != 0),
}


class Evaluator:
    """Evaluates `Expr`s over named values; `indices` binds index letters to plate symbols."""

    def __init__(self, values: dict[str, Val], indices: dict[str, str] | None = None,
                 sizes: dict[str, int] | None = None):
        self.values = values
        self.indices = indices or {}
        self.sizes = sizes or {}

    @np.errstate(all="ignore")  # inf and NaN are judged where they matter, never warned about on stderr
    def eval(self, expr: Expr) -> Val:
        op = expr.op
        if op == "num":
            return Val(np.array([expr.number]))
        if op == "name":
            return self._name(str(expr.value))
        if op == "neg":
            inner = self.eval(expr.args[0])
            return Val(-inner.array, inner.axes)
        if op == "vec":
            return self._vector(expr)
        if op == "index":
            return self._index(expr)
        if op == "call":
            return self._call(expr)
        fn = _ARITH[str(expr.value) if op == "cmp" else op]
        (a, b), axes = align([self.eval(expr.args[0]), self.eval(expr.args[1])])
        return Val(np.asarray(fn(a, b), dtype=float), axes)

    def _name(self, name: str) -> Val:
        if name in self.values:
            return self.values[name]
        if name in self.indices:
            plate = self.indices[name]
            size = self.sizes[plate]
            return Val(np.arange(1, size + 1, dtype=float)[None, :], (plate,))
        if name in BUILTIN_CONSTANTS:
            return Val(np.array([BUILTIN_CONSTANTS[name]]))
        raise EvalError(f"unknown name '{name}'")

    def _vector(self, expr: Expr) -> Val:
        items = [self.eval(item) for item in expr.args]
        shifted = [Val(v.array, tuple(_shift_anonymous(a) for a in v.axes)) for v in items]
        arrays, axes = align(shifted)
        draws = max(a.shape[0] for a in arrays)
        shape = np.broadcast_shapes(*(a.shape[1:] for a in arrays))
        stacked = np.stack([np.broadcast_to(a, (draws, *shape)) for a in arrays], axis=1)
        return Val(stacked, ("#1", *axes))

    def _index(self, expr: Expr) -> Val:
        base = self.eval(expr.args[0])
        positions = list(expr.args[1:])
        if len(positions) > len(base.axes):
            raise EvalError(f"{format_expr(expr.args[0])} has {len(base.axes)} "
                            f"dimension(s) but {len(positions)} indices were given")
        targets = base.axes[:len(positions)]
        result = base
        for axis, position in zip(targets, positions):
            result = self._index_axis(result, axis, position)
        return result

    def _index_axis(self, base: Val, axis: str, position: Expr) -> Val:
        size = base.sizes()[axis]
        if position.op == "name" and position.value in self.indices:
            plate = self.indices[str(position.value)]
            if self.sizes[plate] != size:
                raise EvalError(f"index {position.value} runs over 1..{plate} = "
                                f"{self.sizes[plate]} but the vector has {size} elements")
            if plate != axis and plate in base.axes:
                raise EvalError(f"index {position.value} is used twice on one variable")
            return Val(base.array, tuple(plate if a == axis else a for a in base.axes))
        where = self.eval(position)
        k = base.axes.index(axis)
        moved = Val(np.moveaxis(base.array, k + 1, -1),
                    tuple(a for a in base.axes if a != axis) + (axis,))
        idx = where.array
        if np.any(idx != np.round(idx)) or np.any(idx < 1) or np.any(idx > size):
            raise EvalError(f"index {format_expr(position)} must be a whole number "
                            f"from 1 to {size}")
        rest = Val(moved.array[..., 0], moved.axes[:-1])
        (_, idx_arr), axes = align([rest, where])
        values = expand(Val(moved.array, moved.axes), axes + (axis,))
        draws = max(values.shape[0], idx_arr.shape[0])
        shape = np.broadcast_shapes(values.shape[1:-1], idx_arr.shape[1:])
        values = np.broadcast_to(values, (draws, *shape, size))
        picks = np.broadcast_to(idx_arr.astype(np.intp) - 1, (draws, *shape))[..., None]
        return Val(np.take_along_axis(values, picks, axis=-1)[..., 0], axes)

    def _call(self, expr: Expr) -> Val:
        name = str(expr.value)
        args = [self.eval(a) for a in expr.args]
        if name in ELEMENTWISE and len(args) == 1:
            return Val(np.asarray(ELEMENTWISE[name](args[0].array), dtype=float), args[0].axes)
        if name in ("min", "max") and len(args) == 2:
            (a, b), axes = align(args)
            return Val((np.minimum if name == "min" else np.maximum)(a, b), axes)
        if name == "pow" and len(args) == 2:
            (a, b), axes = align(args)
            return Val(np.power(a, b), axes)
        if name in REDUCTIONS and len(args) == 1:
            return _reduce(name, REDUCTIONS[name], args[0])
        if name == "len" and len(args) == 1:
            return Val(np.array([float(np.prod(args[0].array.shape[1:]))]))
        if name in ELEMENTWISE or name in REDUCTIONS or name in ("pow", "len"):
            raise EvalError(f"{name}() does not take {len(args)} argument(s)")
        raise EvalError(f"unknown function '{name}' (known: {', '.join(FUNCTIONS)})")


def _shift_anonymous(axis: str) -> str:
    return f"#{int(axis[1:]) + 1}" if axis.startswith("#") else axis
