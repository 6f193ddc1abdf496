"""Floating-point implementations (numpy / scipy / torch) checked against theory/."""
