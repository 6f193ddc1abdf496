"""The claims report: one row per (claim, network, setting), built from the experiment functions."""
