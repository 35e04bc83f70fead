"""The load stage: files, directories and stdin to Kubernetes resources with their origin.

Public surface:
- load_paths(paths, *, exclude=(), stdin=None, already=None, jobs=0) -> LoadResult (large inputs on
  several processes: parallel.py)
- load_text(text, file) -> LoadResult
- read_yaml_documents(path) -> (list of (SourceDocument, data), list of LoadError), for policy and
  test files; parse_documents(text, file, is_json=False) does the same for text in hand
- the data model (Position, LoadError, SourceDocument, Resource, LoadResult) and the limits.

This package must not import gpulint.engine, gpulint.report or gpulint.cli.
"""

from gpulint.load.discover import load_paths, read_yaml_documents
from gpulint.load.documents import load_text, parse_documents
from gpulint.load.limits import MAX_ALIAS_NODES, MAX_DEPTH, MAX_FILE_BYTES
from gpulint.load.model import LoadError, LoadResult, Position, Resource, SourceDocument

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "LoadError",
    "LoadResult",
    "Position",
    "Resource",
    "SourceDocument",
    "load_paths",
    "load_text",
    "parse_documents",
    "read_yaml_documents",
]
