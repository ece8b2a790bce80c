"""wgf_icnn — the wgf ICNN file format and a PyTorch twin of the network, for comparisons.

Optional tooling: nothing in wgf's build or tests needs Python. Install (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-compare.txt

What is here
------------
* ``IcnnShape`` / ``Icnn``: a shape and a flat parameter vector in the layout of
  ``include/wgf/icnn.h`` (layers l = 1..L in order: A_l [D][r][W_l], B_l [W_l][D], b_l [W_l],
  C_l [W_l][W_{l-1}] for l >= 2; then c [W_L]; row-major).
* ``read_icnn`` / ``write_icnn``: the binary "ICNN file" v1 of ``src/icnn_io.cpp``:
  ``"WGFICNN\\0" | u32 version=1 | u32 scalar_bytes (4|8) | u32 D | u32 r | u32 L |
  u32 activation (0 = softplus) | f64 strong_convexity | u32 widths[L] | u64 count |
  params[count] | u64 FNV-1a-64 of all preceding bytes``, little-endian.
* ``random_icnn``: the reference initialisation (every tensor N(0, 1)/sqrt(W_l), c uses W_L;
  C_l and c clamped to >= 0). Its random stream is numpy's, not wgf's xoshiro, so the same seed
  gives a different network than ``wgf icnn-init``.
* ``closed_form_eval``: value, gradient, Hessian and Cholesky log-det in numpy from the explicit
  formulas of DESIGN.md §2 (forward Jacobians), independent of autograd.
* ``TorchIcnn``: an ``nn.Module`` computing psi(x) exactly as DESIGN.md §2 (any depth, widths,
  rank, s), in float32 or float64.
* ``reference_hessian_logdet``: the reference code's way to get grad, Hessian and log det:
  one ``autograd.grad`` for the gradient, D more for the Hessian rows, then ``torch.logdet``.

The network (DESIGN.md §2):
    q_l(x)_j = sum_t (sum_i x_i A_l[i,t,j])^2 + (B_l x)_j + b_l[j]
    z_1 = q_1(x)                                 (no activation on the first layer)
    z_l = softplus(C_l z_{l-1} + q_l(x)),  l >= 2
    psi(x) = c . z_L + (s/2) |x|^2

torch is imported lazily, so the file-format half works with numpy alone.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

MAGIC = b"WGFICNN\0"
VERSION = 1
ACTIVATION_SOFTPLUS = 0

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_U64 = (1 << 64) - 1

# Fixed part of the header after the magic: version, scalar_bytes, D, r, L, activation, s.
_HEADER = struct.Struct("<6Id")


class IcnnFormatError(ValueError):
    """A file is not a valid wgf ICNN file (bad magic, version, checksum, count, ...)."""


def fnv1a64(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1a 64-bit hash of ``data`` (the checksum wgf appends to its binary files)."""
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _U64
    return h


# --------------------------------------------------------------------------------------------
# Shape and layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IcnnShape:
    """D, widths W_1..W_L, rank r and strong convexity s of an ICNN (wgf::IcnnShape)."""

    dim: int
    widths: Tuple[int, ...]
    rank: int = 5
    strong_convexity: float = 1e-6

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if self.dim < 1:
            raise ValueError(f"IcnnShape: dim must be >= 1, got {self.dim}")
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"IcnnShape: widths must be a non-empty list of positive ints, got {self.widths}")
        if self.rank < 1:
            raise ValueError(f"IcnnShape: rank must be >= 1, got {self.rank}")
        if not (math.isfinite(self.strong_convexity) and self.strong_convexity >= 0):
            raise ValueError(f"IcnnShape: strong_convexity must be finite and >= 0, got {self.strong_convexity}")

    @property
    def depth(self) -> int:
        return len(self.widths)

    @staticmethod
    def uniform(dim: int, width: int, depth: int = 2, rank: int = 5, strong_convexity: float = 1e-6) -> "IcnnShape":
        """The reference's shape: ``depth`` layers of width ``width``."""
        return IcnnShape(dim, (width,) * depth, rank, strong_convexity)

    def layer_shapes(self) -> List[Dict[str, Tuple[int, ...]]]:
        """Per layer, the numpy shape of each of its blocks, in buffer order (no C for layer 1)."""
        out = []
        prev = 0
        for w in self.widths:
            blocks = {"A": (self.dim, self.rank, w), "B": (w, self.dim), "b": (w,)}
            if prev:
                blocks["C"] = (w, prev)
            out.append(blocks)
            prev = w
        return out

    def param_count(self) -> int:
        n = sum(int(np.prod(s)) for blocks in self.layer_shapes() for s in blocks.values())
        return n + self.widths[-1]

    def describe(self) -> str:
        return f"D={self.dim} W=[{','.join(map(str, self.widths))}] r={self.rank} s={self.strong_convexity:g}"


@dataclass
class Icnn:
    """An ICNN: its shape and the flat parameter vector (float32 or float64) in wgf's layout."""

    shape: IcnnShape
    params: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        self.params = np.ascontiguousarray(self.params)
        if self.params.dtype not in (np.float32, np.float64):
            raise TypeError(f"Icnn: params must be float32 or float64, got {self.params.dtype}")
        if self.params.ndim != 1 or self.params.size != self.shape.param_count():
            raise ValueError(
                f"Icnn: {self.params.size} parameters do not fit {self.shape.describe()} "
                f"(expects {self.shape.param_count()})"
            )

    def blocks(self) -> Tuple[List[Dict[str, np.ndarray]], np.ndarray]:
        """Views into ``params``: per layer {"A", "B", "b"[, "C"]} with their numpy shapes, and c."""
        layers = []
        off = 0
        for shapes in self.shape.layer_shapes():
            layer = {}
            for name, shp in shapes.items():
                n = int(np.prod(shp))
                layer[name] = self.params[off : off + n].reshape(shp)
                off += n
            layers.append(layer)
        c = self.params[off : off + self.shape.widths[-1]]
        return layers, c

    def project(self) -> None:
        """Clamp every C_l and c to >= 0 in place (the convexity projection)."""
        layers, c = self.blocks()
        for layer in layers[1:]:
            np.maximum(layer["C"], 0, out=layer["C"])
        np.maximum(c, 0, out=c)

    def is_convex(self) -> bool:
        layers, c = self.blocks()
        nonneg = all((layer["C"] >= 0).all() for layer in layers[1:]) and (c >= 0).all()
        return bool(nonneg and np.isfinite(self.params).all())

    def astype(self, dtype) -> "Icnn":
        return Icnn(self.shape, self.params.astype(dtype))


def random_icnn(shape: IcnnShape, seed: int = 0, project: bool = True, dtype=np.float64) -> Icnn:
    """The reference initialisation: every tensor of layer l i.i.d. N(0, 1)/sqrt(W_l), c with W_L.

    With ``project`` (default), C_l and c are clamped to >= 0 at once, as after the reference's first
    optimiser step (and as ``wgf icnn-init`` writes them)."""
    rng = np.random.default_rng(seed)
    net = Icnn(shape, np.empty(shape.param_count(), dtype=np.float64))
    layers, c = net.blocks()
    for w, layer in zip(shape.widths, layers):
        for block in layer.values():
            block[...] = rng.standard_normal(block.shape) / math.sqrt(w)
    c[...] = rng.standard_normal(c.shape) / math.sqrt(shape.widths[-1])
    if project:
        net.project()
    return net.astype(dtype)


# --------------------------------------------------------------------------------------------
# File format
# --------------------------------------------------------------------------------------------


def encode_icnn(net: Icnn) -> bytes:
    """The bytes of ``net`` as an ICNN file (the precision of ``net.params``)."""
    s = net.shape
    body = bytearray(MAGIC)
    body += _HEADER.pack(VERSION, net.params.itemsize, s.dim, s.rank, s.depth, ACTIVATION_SOFTPLUS, s.strong_convexity)
    body += struct.pack(f"<{s.depth}I", *s.widths)
    body += struct.pack("<Q", net.params.size)
    body += net.params.astype(net.params.dtype.newbyteorder("<"), copy=False).tobytes()
    body += struct.pack("<Q", fnv1a64(bytes(body)))
    return bytes(body)


def decode_icnn(data: bytes, source: str = "<bytes>") -> Icnn:
    """Parses an ICNN file; raises IcnnFormatError naming ``source`` and the problem."""

    def need(n: int, pos: int, what: str) -> None:
        if pos + n > len(data):
            raise IcnnFormatError(f"{source}: truncated: reading {what} at byte {pos} needs {n} bytes, {len(data) - pos} left")

    need(len(MAGIC), 0, "magic")
    if data[: len(MAGIC)] != MAGIC:
        raise IcnnFormatError(f"{source}: not a wgf ICNN file (bad magic)")
    pos = len(MAGIC)
    need(_HEADER.size, pos, "header")
    version, scalar_bytes, dim, rank, depth, activation, s = _HEADER.unpack_from(data, pos)
    pos += _HEADER.size
    if version != VERSION:
        raise IcnnFormatError(f"{source}: ICNN format version {version} is not supported (this reader knows {VERSION})")
    if scalar_bytes not in (4, 8):
        raise IcnnFormatError(f"{source}: scalar size {scalar_bytes} is not 4 or 8")
    if activation != ACTIVATION_SOFTPLUS:
        raise IcnnFormatError(f"{source}: activation id {activation} is unknown (0 = softplus)")
    if not 1 <= depth <= 1024:
        raise IcnnFormatError(f"{source}: depth {depth} is out of range")
    need(4 * depth, pos, "widths")
    widths = struct.unpack_from(f"<{depth}I", data, pos)
    pos += 4 * depth
    try:
        shape = IcnnShape(dim, widths, rank, s)
    except ValueError as e:
        raise IcnnFormatError(f"{source}: invalid shape: {e}") from None
    need(8, pos, "param_count")
    (count,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    if count != shape.param_count():
        raise IcnnFormatError(
            f"{source}: parameter count {count} does not match {shape.describe()} (expects {shape.param_count()})"
        )
    dtype = np.dtype("<f4" if scalar_bytes == 4 else "<f8")
    need(count * scalar_bytes, pos, "params")
    params = np.frombuffer(data, dtype=dtype, count=count, offset=pos).astype(dtype.newbyteorder("="))
    pos += count * scalar_bytes
    need(8, pos, "checksum")
    (stored,) = struct.unpack_from("<Q", data, pos)
    if stored != fnv1a64(data[:pos]):
        raise IcnnFormatError(f"{source}: checksum mismatch (file corrupted)")
    pos += 8
    if pos != len(data):
        raise IcnnFormatError(f"{source}: {len(data) - pos} unexpected trailing bytes")
    if not np.isfinite(params).all():
        raise IcnnFormatError(f"{source}: parameter {int(np.argmin(np.isfinite(params)))} is not finite")
    return Icnn(shape, params)


def read_icnn(path: str) -> Icnn:
    """Loads an ICNN file, verifying magic, version, shape, count, checksum and finiteness."""
    with open(path, "rb") as f:
        return decode_icnn(f.read(), f"ICNN file '{path}'")


def write_icnn(path: str, net: Icnn) -> None:
    """Saves ``net`` atomically (temporary file in the same folder, then rename)."""
    data = encode_icnn(net)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------------------------
# Closed-form evaluation in numpy (DESIGN.md §2), independent of autograd
# --------------------------------------------------------------------------------------------


def _softplus_np(u: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """softplus, sigmoid, sigmoid' — computed without overflow for any u."""
    z = np.logaddexp(0.0, u)
    e = np.exp(-np.abs(u))
    p = np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    q = np.where(u >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # 1 - p without cancellation
    return z, p, p * q


def closed_form_eval(net: Icnn, x: np.ndarray) -> Dict[str, np.ndarray]:
    """psi, grad, Hessian (forward Jacobians) and Cholesky log det of ``net`` at x [N][D], in float64.

    Returns {"value" [N], "grad" [N][D], "hess" [N][D][D], "logdet" [N], "status" [N] int32}; status
    is 0 where Cholesky succeeded and 1 where it failed (logdet NaN there)."""
    net = net.astype(np.float64)
    x = np.asarray(x, dtype=np.float64)
    shape = net.shape
    n, d = x.shape
    if d != shape.dim:
        raise ValueError(f"closed_form_eval: points have {d} coordinates, the network takes {shape.dim}")
    layers, c = net.blocks()

    dq, s1, s2 = [], [], []  # per layer: grad q_l [N][W][D], sigma'(u_l), sigma''(u_l)
    K, J = [], None  # K_l = C_l J_{l-1} + grad q_l (K_1 = grad q_1), J_l = diag(sigma'(u_l)) K_l
    z = None
    for l, layer in enumerate(layers):
        A = layer["A"]
        proj = np.einsum("ni,itj->ntj", x, A)  # a_{l,t,j} . x
        q = (proj**2).sum(axis=1) + x @ layer["B"].T + layer["b"]
        grad_q = 2.0 * np.einsum("ntj,itj->nji", proj, A) + layer["B"][None]
        if l == 0:
            u, k = q, grad_q
            z, d1, d2 = u, np.ones_like(u), np.zeros_like(u)
        else:
            u = z @ layer["C"].T + q
            k = np.einsum("jk,nkd->njd", layer["C"], J) + grad_q
            z, d1, d2 = _softplus_np(u)
        J = d1[:, :, None] * k
        dq.append(grad_q)
        s1.append(d1)
        s2.append(d2)
        K.append(k)

    value = z @ c + 0.5 * shape.strong_convexity * (x**2).sum(axis=1)
    grad = shape.strong_convexity * x
    hess = np.broadcast_to(shape.strong_convexity * np.eye(d), (n, d, d)).copy()
    delta = np.broadcast_to(c, (n, c.size))
    for l in reversed(range(len(layers))):
        g = s1[l] * delta
        grad = grad + np.einsum("nj,njd->nd", g, dq[l])
        if l > 0:
            hess += np.einsum("nje,nj,njf->nef", K[l], delta * s2[l], K[l])
        A = layers[l]["A"]
        hess += 2.0 * np.einsum("etj,nj,ftj->nef", A, g, A)
        if l > 0:
            delta = g @ layers[l]["C"]

    logdet = np.full(n, np.nan)
    status = np.zeros(n, dtype=np.int32)
    for i in range(n):
        try:
            chol = np.linalg.cholesky(hess[i])
            logdet[i] = 2.0 * np.log(np.diag(chol)).sum()
        except np.linalg.LinAlgError:
            status[i] = 1
    return {"value": value, "grad": grad, "hess": hess, "logdet": logdet, "status": status}


# --------------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------------


def _torch():
    import torch  # noqa: WPS433 (lazy: the file-format half of this module needs only numpy)

    return torch


def _exact_softplus_function():
    """A softplus autograd Function that is exact to every order: forward log(1 + e^u) without
    overflow, backward sigmoid(u) through torch.sigmoid, whose own derivatives are exact.

    torch.nn.functional.softplus switches to the identity above u = 20 (error ~2e-9, and a zero
    second derivative there), and relu(u) + log1p(exp(-|u|)) differentiates wrongly at u = 0, so
    neither reproduces wgf's softplus to float64 accuracy."""
    torch = _torch()

    class ExactSoftplus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, u):
            ctx.save_for_backward(u)
            return torch.logaddexp(u, torch.zeros((), dtype=u.dtype, device=u.device))

        @staticmethod
        def backward(ctx, grad_out):
            (u,) = ctx.saved_tensors
            return grad_out * torch.sigmoid(u)

    return ExactSoftplus


_EXACT_SOFTPLUS = None


def exact_softplus(u):
    global _EXACT_SOFTPLUS
    if _EXACT_SOFTPLUS is None:
        _EXACT_SOFTPLUS = _exact_softplus_function()
    return _EXACT_SOFTPLUS.apply(u)


def _make_torch_icnn_class():
    torch = _torch()
    nn = torch.nn

    class TorchIcnn(nn.Module):
        """psi of DESIGN.md §2 as a torch module: forward(x [N][D]) -> psi [N].

        Parameters keep wgf's shapes: A_l [D][r][W_l], B_l [W_l][D], b_l [W_l], C_l [W_l][W_{l-1}],
        c [W_L]. ``activation`` is "exact" (a softplus exact to every derivative order, like wgf's)
        or "torch" (torch.nn.functional.softplus, as the reference's DenseICNN; it turns linear above
        u = 20)."""

        def __init__(self, shape: IcnnShape, dtype=None, device=None, activation: str = "exact"):
            super().__init__()
            if activation not in ("exact", "torch"):
                raise ValueError(f"TorchIcnn: activation must be 'exact' or 'torch', got {activation!r}")
            self.shape = shape
            self.activation = activation
            opts = {"dtype": dtype or torch.float64, "device": device}
            self.A = nn.ParameterList()
            self.B = nn.ParameterList()
            self.b = nn.ParameterList()
            self.C = nn.ParameterList()  # C[l - 1] belongs to layer l + 1 (layer 1 has none)
            for blocks in shape.layer_shapes():
                self.A.append(nn.Parameter(torch.zeros(blocks["A"], **opts)))
                self.B.append(nn.Parameter(torch.zeros(blocks["B"], **opts)))
                self.b.append(nn.Parameter(torch.zeros(blocks["b"], **opts)))
                if "C" in blocks:
                    self.C.append(nn.Parameter(torch.zeros(blocks["C"], **opts)))
            self.c = nn.Parameter(torch.zeros(shape.widths[-1], **opts))

        @classmethod
        def from_icnn(cls, net: Icnn, dtype=None, device=None, activation: str = "exact") -> "TorchIcnn":
            """A module holding ``net``'s parameters, converted to ``dtype`` (default: float64)."""
            model = cls(net.shape, dtype=dtype, device=device, activation=activation)
            layers, c = net.blocks()
            with torch.no_grad():
                for l, layer in enumerate(layers):
                    model.A[l].copy_(torch.from_numpy(np.array(layer["A"])))
                    model.B[l].copy_(torch.from_numpy(np.array(layer["B"])))
                    model.b[l].copy_(torch.from_numpy(np.array(layer["b"])))
                    if l > 0:
                        model.C[l - 1].copy_(torch.from_numpy(np.array(layer["C"])))
                model.c.copy_(torch.from_numpy(np.array(c)))
            return model

        def to_icnn(self, dtype=np.float64) -> Icnn:
            """The parameters back as a flat vector in wgf's layout."""
            parts = []
            for l in range(self.shape.depth):
                parts += [self.A[l], self.B[l], self.b[l]] + ([self.C[l - 1]] if l > 0 else [])
            parts.append(self.c)
            flat = np.concatenate([p.detach().cpu().double().numpy().ravel() for p in parts])
            return Icnn(self.shape, flat.astype(dtype))

        def project_(self) -> None:
            """Clamp C_l and c to >= 0 in place (the reference's convexify())."""
            with torch.no_grad():
                for C in self.C:
                    C.clamp_(min=0)
                self.c.clamp_(min=0)

        def _quadratic(self, l: int, x):
            """q_l(x) [N][W_l]: one GEMM for all r projections, squared and summed over the rank."""
            A = self.A[l]
            D, r, W = A.shape
            proj = (x @ A.reshape(D, r * W)).reshape(-1, r, W)
            return proj.square().sum(dim=1) + x @ self.B[l].T + self.b[l]

        def _sigma(self, u):
            return exact_softplus(u) if self.activation == "exact" else torch.nn.functional.softplus(u)

        def forward(self, x):
            z = self._quadratic(0, x)
            for l in range(1, self.shape.depth):
                z = self._sigma(z @ self.C[l - 1].T + self._quadratic(l, x))
            return z @ self.c + 0.5 * self.shape.strong_convexity * x.square().sum(dim=1)

    return TorchIcnn


_TORCH_ICNN = None


def __getattr__(name: str):
    """Builds ``TorchIcnn`` on first access, so that importing this module does not import torch."""
    global _TORCH_ICNN
    if name == "TorchIcnn":
        if _TORCH_ICNN is None:
            _TORCH_ICNN = _make_torch_icnn_class()
        return _TORCH_ICNN
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def reference_hessian_logdet(model, x, create_graph: bool = True):
    """psi, grad psi, Hessian and log det at x [N][D], the way the reference code computes them.

    grad psi = autograd.grad(psi.sum(), x, create_graph=True); Hessian row d = autograd.grad of
    grad psi[:, d] with grad_outputs = ones (D calls, stacked to [N][D][D]); log det = torch.logdet
    (LU; NaN for a negative determinant). With ``create_graph`` (the default, as in the reference's
    training loss) the Hessian rows keep their graph, so the result can be differentiated with
    respect to the parameters; without it, only the gradient's graph is built (evaluation).

    Returns (value [N], grad [N][D], hess [N][D][D], logdet [N]); x itself is not modified."""
    torch = _torch()
    x = x.detach().requires_grad_(True)
    value = model(x)
    grad = torch.autograd.grad(value.sum(), x, create_graph=True)[0]
    ones = torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
    rows = [
        torch.autograd.grad(grad[:, d], x, grad_outputs=ones, create_graph=create_graph, retain_graph=True)[0]
        for d in range(x.shape[1])
    ]
    hess = torch.stack(rows, dim=1)
    return value, grad, hess, torch.logdet(hess)


def read_raw(path: str, dtype, trailing: Sequence[int] = ()) -> np.ndarray:
    """A raw little-endian array file, shaped [N, *trailing] with N from the file size."""
    dt = np.dtype(dtype).newbyteorder("<")
    data = np.fromfile(path, dtype=dt)
    per = int(np.prod(trailing)) if trailing else 1
    if data.size % per:
        raise ValueError(f"{path}: {data.size} values are not a multiple of {per} (shape [N, {trailing}])")
    return data.astype(dt.newbyteorder("=")).reshape((-1, *trailing))


def write_raw(path: str, array: np.ndarray, dtype) -> None:
    """Writes ``array`` as raw little-endian ``dtype``."""
    np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tofile(path)
