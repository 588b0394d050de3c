"""The sandbox's child side: the judge, the candidate, the probe and the isolation layers.

These modules import only the standard library and each other, never the rest of cotbench: the
children start from ``__main__`` (run by path, in isolated mode), which loads this package from
its own directory without importing ``cotbench``. The candidate imports every module it needs
before it builds its jail, in which this directory does not exist.
"""
