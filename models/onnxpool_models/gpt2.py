"""A GPT-2-style decoder built from primitive ONNX ops, at any size.

Mirrors Hugging Face's GPT2LMHeadModel forward pass without a KV cache: token + position
embeddings, pre-LayerNorm blocks of causal multi-head self-attention and a GELU MLP, a final
LayerNorm and logits from the tied (transposed) token embedding. Every op is a plain ONNX op
(no contrib Attention/FastGelu), so the model also exercises ONNX Runtime's graph fusions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import onnx

from .builder import FLOAT, INT64, GraphBuilder

LN_EPS = 1e-5
MASK_VALUE = -1e9  # added above the diagonal; large enough that exp() underflows to exactly 0


@dataclass(frozen=True)
class GPT2Config:
    n_layer: int
    n_embd: int
    n_head: int
    vocab_size: int
    n_positions: int

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def param_count(self) -> int:
        """Closed form for the tied model, to cross-check the builder (124,439,808 for GPT-2)."""
        d = self.n_embd
        per_block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) \
            + (4 * d * d + d)
        return self.vocab_size * d + self.n_positions * d + self.n_layer * per_block + 2 * d


PRESETS = {
    # gpt2_tiny.onnx: a few hundred KB, fast enough for unit tests.
    "small": GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=1000, n_positions=128),
    # gpt2.onnx: GPT-2 small's real size (124 M parameters, ~500 MB); only made on request.
    "gpt2": GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024),
}


def layer_norm(b: GraphBuilder, x: str, cfg: GPT2Config, prefix: str) -> str:
    # GPT-2 initialises LayerNorm to the identity; a small perturbation makes the weights matter.
    scale = b.weight(prefix + ".weight", 1.0 + b.normal(cfg.n_embd, 0.02))
    bias = b.weight(prefix + ".bias", b.normal(cfg.n_embd, 0.02))
    return b.node("LayerNormalization", [x, scale, bias], axis=-1, epsilon=LN_EPS)


def linear(b: GraphBuilder, x: str, n_in: int, n_out: int, prefix: str) -> str:
    """GPT-2's Conv1D: x @ W + b with W stored [in, out], initialised N(0, 0.02)."""
    w = b.weight(prefix + ".weight", b.normal((n_in, n_out), 0.02))
    bias = b.weight(prefix + ".bias", b.normal(n_out, 0.02))
    return b.node("Add", [b.node("MatMul", [x, w]), bias])


def gelu_tanh(b: GraphBuilder, x: str) -> str:
    """0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))): GPT-2's 'gelu_new'."""
    f32 = np.float32
    cube = b.node("Mul", [x, b.node("Mul", [x, x])])
    inner = b.node("Add", [x, b.node("Mul", [cube, b.const(0.044715, f32)])])
    tanh = b.node("Tanh", [b.node("Mul", [inner, b.const(np.sqrt(2.0 / np.pi), f32)])])
    half_x = b.node("Mul", [x, b.const(0.5, f32)])
    return b.node("Mul", [half_x, b.node("Add", [tanh, b.const(1.0, f32)])])


def attention(b: GraphBuilder, x: str, mask: str, cfg: GPT2Config, prefix: str) -> str:
    """Causal multi-head self-attention on [batch, seq, n_embd]."""
    d, h, hd = cfg.n_embd, cfg.n_head, cfg.head_dim
    qkv = linear(b, x, d, 3 * d, prefix + ".c_attn")
    q, k, v = b.node("Split", [qkv, b.const([d, d, d])], n_outputs=3, axis=-1)
    # [batch, seq, d] -> [batch, seq, heads, head_dim]; 0 copies batch and seq from the input.
    to_heads = b.const([0, 0, h, hd])
    q = b.node("Transpose", [b.node("Reshape", [q, to_heads])], perm=[0, 2, 1, 3])   # [B,H,S,hd]
    k_t = b.node("Transpose", [b.node("Reshape", [k, to_heads])], perm=[0, 2, 3, 1])  # [B,H,hd,S]
    v = b.node("Transpose", [b.node("Reshape", [v, to_heads])], perm=[0, 2, 1, 3])   # [B,H,S,hd]

    scores = b.node("MatMul", [q, k_t])                                               # [B,H,S,S]
    scores = b.node("Mul", [scores, b.const(1.0 / np.sqrt(hd), np.float32)])
    probs = b.node("Softmax", [b.node("Add", [scores, mask])], axis=-1)
    context = b.node("Transpose", [b.node("MatMul", [probs, v])], perm=[0, 2, 1, 3])  # [B,S,H,hd]
    merged = b.node("Reshape", [context, b.const([0, 0, d])])
    return linear(b, merged, d, d, prefix + ".c_proj")


def block(b: GraphBuilder, x: str, mask: str, cfg: GPT2Config, prefix: str) -> str:
    """Pre-LN transformer block: x + attn(ln_1(x)), then + mlp(ln_2(.))."""
    x = b.node("Add", [x, attention(b, layer_norm(b, x, cfg, prefix + ".ln_1"), mask, cfg,
                                    prefix + ".attn")])
    hidden = linear(b, layer_norm(b, x, cfg, prefix + ".ln_2"), cfg.n_embd, 4 * cfg.n_embd,
                    prefix + ".mlp.c_fc")
    mlp = linear(b, gelu_tanh(b, hidden), 4 * cfg.n_embd, cfg.n_embd, prefix + ".mlp.c_proj")
    return b.node("Add", [x, mlp])


def embeddings_and_mask(b: GraphBuilder, input_ids: str, wte: str, cfg: GPT2Config):
    """Token + position embeddings and the [seq, seq] causal mask, both sized at run time."""
    seq = b.node("Gather", [b.node("Shape", [input_ids]), b.const(1)], axis=0)  # int64 scalar
    positions = b.node("Range", [b.const(0), seq, b.const(1)])                   # [seq]
    wpe = b.weight("wpe", b.normal((cfg.n_positions, cfg.n_embd), 0.01))
    hidden = b.node("Add", [b.node("Gather", [wte, input_ids], axis=0),          # [B,S,d]
                            b.node("Gather", [wpe, positions], axis=0)])         # [S,d]

    # Upper triangle (future positions) gets MASK_VALUE; the top-left [seq, seq] corner is the
    # mask for a sequence of length seq. A constant, not a parameter.
    full = np.triu(np.full((cfg.n_positions, cfg.n_positions), MASK_VALUE, np.float32), k=1)
    seq_1d = b.node("Unsqueeze", [seq, b.const([0])])
    ends = b.node("Concat", [seq_1d, seq_1d], axis=0)
    mask = b.node("Slice", [b.const(full, np.float32, "causal_mask"), b.const([0, 0]), ends,
                            b.const([0, 1])])
    return hidden, mask


def gpt2(cfg: GPT2Config, name: str, seed: int) -> tuple[onnx.ModelProto, GraphBuilder]:
    """GPT-2 decoder (Radford et al. 2019) as Hugging Face GPT2LMHeadModel, no KV cache.

    Input `input_ids` int64[batch,seq] (seq <= n_positions), output `logits`
    float32[batch,seq,vocab_size]. The LM head is tied to the token embedding (one `wte`
    initializer, transposed in the graph), as in GPT-2. Config in metadata_props.
    """
    b = GraphBuilder(name, seed)
    input_ids = b.input("input_ids", INT64, ["batch", "seq"])
    wte = b.weight("wte", b.normal((cfg.vocab_size, cfg.n_embd), 0.02))
    x, mask = embeddings_and_mask(b, input_ids, wte, cfg)
    for layer in range(cfg.n_layer):
        x = block(b, x, mask, cfg, f"h.{layer}")
    x = layer_norm(b, x, cfg, "ln_f")
    b.output("logits", FLOAT, ["batch", "seq", cfg.vocab_size])
    b.node("MatMul", [x, b.node("Transpose", [wte], perm=[1, 0])], out="logits")

    assert b.param_count == cfg.param_count(), (b.param_count, cfg.param_count())
    metadata = {key: str(value) for key, value in asdict(cfg).items()}
    metadata["tied_embeddings"] = "true"
    return b.finish(gpt2.__doc__, metadata), b
