"""The ``shortcut-ntk`` console script: report, show, bench."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from numerics.report.rows import Context


def _claims(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shortcut-ntk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("report", help="run the claims report (default: --quick)")
    mode = report.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, every claim (default)")
    mode.add_argument("--full", action="store_true", help="paper-scale sweeps")
    report.add_argument("--out", type=Path, default=Path("report"), help="output folder (default: report)")
    report.add_argument("--claims", type=_claims, default=None, help="comma-separated claim ids, e.g. L2,S1")
    report.add_argument("--arch", type=_claims, default=None, help="comma-separated architectures")
    report.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    report.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "report":
        return _report(args)
    return 2


def _report(args) -> int:
    from numerics.report import run, table

    if args.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            print("error: --device cuda: CUDA is not available on this machine", file=sys.stderr)
            return 2
    ctx = Context(full=args.full, seed=args.seed, device=args.device)
    try:
        rows = run.run(ctx, archs=args.arch, claims=args.claims)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table.format_table(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    run.write_json(run.to_json(rows, ctx), args.out / "claims.json")
    print(f"\nwrote {args.out / 'claims.json'}")
    return 0 if all(r.verdict != "fails" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
