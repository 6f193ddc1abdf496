"""Exact mathematics of the NTK theory of shortcut learning, in SymPy.

Layer rule (DESIGN.md): this package imports sympy (and hypothesis for strategies) only,
never numpy or torch. Every result is derived by SymPy from the cluster model.
"""
__all__ = ["GMM", "Cluster"]


def __getattr__(name: str):
    """``from theory import GMM`` loads theory.gmm (and sympy) on first use, so importing the claim registry
    alone (theory.claims: the pytest plugin, on pytest's controlling process) stays light."""
    if name in __all__:
        from theory import gmm
        return getattr(gmm, name)
    raise AttributeError(f"module 'theory' has no attribute {name!r}")
