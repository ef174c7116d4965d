"""The SDK for action and sensor authors, re-exported by `import attune`.

Standard library only: this package (with `attune/__init__.py`) is copied onto the path
of actions and sensors running in their packs' own virtualenvs (see `bundle.py` and
README.md). Nothing here may import another part of `attune`.
"""
