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
    report.add_argument("--compare", type=Path, metavar="OLD.json", default=None,
                        help="compare with an earlier claims.json: warn on a different mode, seed, device or "
                             "versions; list missing and added rows, improvements, regressions (holds -> fails or "
                             "not run, worst error grown > 10x) and series changes; exit 1 exactly when a row "
                             "regressed")
    report.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    show = sub.add_parser("show", help="print SymPy closed forms and their values",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                          description="SymPy's closed forms for the canonical 4-cluster model (docs/theory.md#notation), "
                                      "evaluated at exact parameters (decimals such as 0.9 are taken as 9/10); a "
                                      "parameter given as its own name (--rho rho) stays a positive symbol. With "
                                      "--model, a "
                                      "custom model from a JSON or TOML file (docs/example_model.json): eigenpairs, "
                                      "trained weights, cluster outputs and the D3 interpolation prediction.")
    show.add_argument("model", nargs="?", choices=["canonical"], default="canonical",
                      help="the built-in model: canonical = clusters (y, b) in {+-1}^2, means y alpha e_core + "
                           "b beta e_bias")
    show.add_argument("--model", dest="model_file", type=Path, default=None, metavar="FILE",
                      help="a custom model (.json or .toml): clusters with label, bias, weight, mean, variance, and "
                           "an optional interpolation block {n, dim, gamma}; replaces the canonical parameters")
    for name, default, meaning in (("alpha", "1", "core strength alpha (margin of the core attribute)"),
                                   ("beta", "1.3", "bias (shortcut) strength beta"),
                                   ("rho", "0.9", "aligned fraction rho in [0, 1]; p = 2 rho - 1"),
                                   ("var", "0.25", "within-cluster variance s^2 per coordinate")):
        show.add_argument(f"--{name}", type=_number(name), default=default,
                          help=f"{meaning}: a number (0.9, 9/10), or {name} to keep it as a symbol")
    sub.add_parser("bench", help="run the benchmarks and print ratio tables (see: shortcut-ntk bench --help)")
    return parser


def _number(name):
    """An argparse type that parses a decimal or fraction string into an exact Fraction, or the parameter's own
    name (``--rho rho``) into a positive SymPy Symbol of that name (never sympify)."""
    from fractions import Fraction

    def parse(text: str):
        if text == name:
            import sympy as sp

            return sp.Symbol(name, positive=True)
        try:
            value = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise argparse.ArgumentTypeError(f"--{name} must be a number such as 0.9 or 9/10, or {name} to keep it "
                                             f"as a symbol, got {text!r}") from None
        return value

    return parse


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:                      # numerics.bench owns its options
        from numerics.bench import main as bench_main
        return bench_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "report":
        return _report(args)
    if args.command == "show":
        from numerics.report.show import show_canonical, show_model
        try:
            if args.model_file is not None:
                print(show_model(args.model_file))
            else:
                print(show_canonical(args.alpha, args.beta, args.rho, args.var))
        except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
            print(f"error: --model: {error}", file=sys.stderr)
            return 2
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    return 2


def _report(args) -> int:
    from numerics.report import run, table

    if args.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            print("error: --device cuda: CUDA is not available on this machine", file=sys.stderr)
            return 2
    from numerics.report import compare, figures, markdown

    ctx = Context(full=args.full, seed=args.seed, device=args.device)
    try:
        old = compare.load(args.compare) if args.compare else None
        rows = run.run(ctx, archs=args.arch, claims=args.claims)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table.format_table(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    document = run.to_json(rows, ctx, archs=args.arch, claims=args.claims)
    run.write_json(document, args.out / "claims.json")
    print(f"\nwrote {args.out / 'claims.json'}")
    drawn = [] if args.no_figures else figures.draw_all(rows, args.out, seed=ctx.seed)
    for path in drawn:
        print(f"wrote {path}")
    print(f"wrote {markdown.write(rows, document, drawn, args.out)}")
    if old is not None:                  # the comparison decides the exit status: 1 exactly for a regression
        comparison = compare.compare(old, document)
        print("\n" + comparison.summary(str(args.compare)))
        return 1 if comparison.regressions else 0
    return 0 if all(r.verdict != "fails" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
