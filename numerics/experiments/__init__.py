"""One function per claim experiment, returning plain data.

DESIGN.md: one code path, two drivers. The Hypothesis tests call these with generated
parameters and assert; the report calls them with a default sweep and tabulates.
"""
