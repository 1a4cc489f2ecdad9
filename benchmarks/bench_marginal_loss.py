"""Marginal loss vs cross-entropy: forward + backward on the same logits.

Goal (issue 6): the marginal NLL with a mix of leaf and coarse targets costs at
most 3.0x (stretch 2.0x) of ``F.cross_entropy`` on logits (2, 200, 256, 512).
Timings are interleaved in one run; the ratio of medians is printed.

    python benchmarks/bench_marginal_loss.py            # (2, 200, 256, 512)
    python benchmarks/bench_marginal_loss.py --small    # (2, 200, 64, 128)
    python benchmarks/bench_marginal_loss.py --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F  # noqa: N812
except ImportError:
    print("bench_marginal_loss needs torch: pip install torch==2.13.0")
    sys.exit(0)

from unitax_train.losses import IGNORE, SetTable, marginal_nll


def make_problem(
    shape: tuple[int, int, int, int],
    *,
    coarse: float,
    largest: int,
    device: torch.device,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, SetTable]:
    """Logits, a set target, the same target as leaves, and a set table.

    The table holds the leaves, then 40 coarse sets of 2 to ``largest``
    leaves each.
    A ``coarse`` fraction of the pixels is labelled with a coarse set, 5 %
    are ignored, the rest are leaves.
    """
    generator = torch.Generator().manual_seed(seed)
    batch, leaves, height, width = shape
    coarse_sets = []
    for _ in range(40):
        size = int(torch.randint(2, largest + 1, (), generator=generator))
        members = torch.randperm(leaves, generator=generator)[:size]
        row = torch.zeros(leaves, dtype=torch.bool)
        row[members] = True
        coarse_sets.append(row)
    membership = torch.cat(
        [torch.eye(leaves, dtype=torch.bool), torch.stack(coarse_sets)]
    )
    table = SetTable.from_membership(membership).to(device)
    leaf_target = torch.randint(leaves, (batch, height, width), generator=generator)
    draw = torch.rand((batch, height, width), generator=generator)
    coarse_target = leaves + torch.randint(
        40, (batch, height, width), generator=generator
    )
    target = torch.where(draw < coarse, coarse_target, leaf_target)
    ignored = draw > 0.95
    target[ignored] = IGNORE
    leaf_target[ignored] = IGNORE
    logits = torch.randn(shape, generator=generator)
    return logits.to(device), target.to(device), leaf_target.to(device), table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="(2, 200, 64, 128)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--coarse", type=float, default=0.3, help="coarse pixel share")
    parser.add_argument("--largest", type=int, default=30, help="largest coarse set")
    args = parser.parse_args()
    device = torch.device(args.device)
    shape = (2, 200, 64, 128) if args.small else (2, 200, 256, 512)
    logits, target, leaf_target, table = make_problem(
        shape, coarse=args.coarse, largest=args.largest, device=device, seed=0
    )

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def run_marginal() -> None:
        x = logits.detach().requires_grad_()
        marginal_nll(x, target, table).backward()

    def run_cross_entropy() -> None:
        x = logits.detach().requires_grad_()
        F.cross_entropy(x, leaf_target, ignore_index=IGNORE).backward()

    def timed(function: object) -> float:
        sync()
        start = time.perf_counter()
        function()  # type: ignore[operator]
        sync()
        return time.perf_counter() - start

    run_marginal(), run_cross_entropy()  # warm-up
    marginal, cross_entropy = [], []
    for _ in range(args.repeats):
        marginal.append(timed(run_marginal))
        cross_entropy.append(timed(run_cross_entropy))
    m, c = statistics.median(marginal), statistics.median(cross_entropy)
    print(
        f"logits {shape} on {device} ({torch.get_num_threads()} threads), "
        f"{args.coarse:.0%} coarse pixels (sets of 2..{args.largest} leaves), "
        f"median of {args.repeats}"
    )
    print(f"  marginal_nll    fwd+bwd {m * 1e3:9.1f} ms")
    print(f"  cross_entropy   fwd+bwd {c * 1e3:9.1f} ms")
    print(f"  ratio {m / c:.2f}x  (goal <= 3.0x, stretch <= 2.0x)")


if __name__ == "__main__":
    main()
