"""Exact mathematics of the NTK theory of shortcut learning, in SymPy.

Layer rule (DESIGN.md): this package imports sympy (and hypothesis for strategies) only,
never numpy or torch. Every result is derived by SymPy from the cluster model.
"""
from theory.gmm import GMM, Cluster

__all__ = ["GMM", "Cluster"]
