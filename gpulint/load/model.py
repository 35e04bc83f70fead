"""What the load stage hands to the rest of gpulint: resources with their origin, and load errors.

Positions are resolved lazily: a resource keeps the text of its YAML document, and the line and
column of any node are computed (by re-reading only that document with a position-tracking
parser) the first time a finding needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

Path = tuple  # a JSON path into a document: a tuple of str (mapping keys) and int (list indexes)


@dataclass(frozen=True)
class Position:
    """1-based line and column."""

    line: int
    column: int


@dataclass
class LoadError:
    """An input that could not be read. Always one line, always with file, line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass(eq=False)
class SourceDocument:
    """One YAML/JSON document of one file."""

    file: str  # display path ("<stdin>" for stdin)
    index: int  # 0-based document index inside the file
    line: int  # 1-based line of the document's first content line in the file
    text: str  # the document's text, used to resolve positions lazily
    is_json: bool = False
    template: Optional[str] = None  # helm chart template from a "# Source:" comment
    part: int = 0  # which document of `text` this is (0 unless the text could not be split further)
    _locator: Optional[Callable[[Path], Position]] = field(default=None, repr=False)

    def forget_positions(self) -> None:
        """Drop the position tree (built again if a position is asked for later)."""
        self._locator = None

    def locate(self, path: Sequence[Any]) -> Position:
        """Position of the deepest node along `path` that exists in this document."""
        if not path and self._locator is None and not self.is_json and self.part == 0 and self.text[:1].isalnum():
            # The root of a YAML document whose text starts with a letter or digit (a mapping's first key,
            # or a scalar) starts there: no need to read the document again.
            return Position(self.line, 1)
        if self._locator is None:
            from gpulint.load.positions import build_locator

            self._locator = build_locator(self)
        return self._locator(tuple(path))


@dataclass(eq=False)
class Resource:
    """A Kubernetes object read from an input, with where it came from.

    `obj` holds plain Python data (dict/list/str/int/float/bool/None) as Kubernetes' Go YAML
    reader would produce it. `path_in_document` is () for a top-level object and
    ("items", i) for an element of a `kind: List`.
    """

    obj: dict
    source: SourceDocument
    path_in_document: Path = ()

    @property
    def api_version(self) -> str:
        value = self.obj.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        value = self.obj.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def metadata(self) -> dict:
        value = self.obj.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def name(self) -> str:
        value = self.metadata.get("name") or self.metadata.get("generateName") or ""
        return value if isinstance(value, str) else str(value)

    @property
    def namespace(self) -> str:
        value = self.metadata.get("namespace") or ""
        return value if isinstance(value, str) else str(value)

    @property
    def file(self) -> str:
        return self.source.file

    @property
    def template(self) -> Optional[str]:
        return self.source.template

    def locate(self, path: Sequence[Any] = ()) -> Position:
        """Line and column of `path` (relative to this object), or of the deepest existing prefix."""
        return self.source.locate(tuple(self.path_in_document) + tuple(path))

    def display(self) -> str:
        ns = self.namespace
        return f"{self.kind} {ns + '/' if ns else ''}{self.name}"


@dataclass
class LoadResult:
    resources: list[Resource] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file that was read
