"""YAML read as nodes, so every value keeps the line it came from (for errors that name the line).

Used by services/settings.py and services/inventory/loader.py. Only the safe loader is used: no Python tags.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_MERGE_DEPTH = 20
MAX_MERGED_ENTRIES = 10_000  # far above any real inventory; a bomb reaches it within microseconds
MAX_NODES = 100_000  # distinct YAML values in one file
MAX_DEPTH = 64  # nesting levels: an inventory needs 5, settings 2; the readers walk nodes recursively


class YamlProblem(Exception):
    """A problem at a place in a YAML text; `line`/`column` are 1-based (0 when unknown)."""

    def __init__(self, problem: str, line: int = 0, column: int = 0, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column
        self.fix = fix


def line_of(node: Node) -> int:
    """Return the 1-based line where `node` starts."""
    return node.start_mark.line + 1


def column_of(node: Node) -> int:
    """Return the 1-based column where `node` starts."""
    return node.start_mark.column + 1


def compose(text: str) -> Node | None:
    """Return the root node of one YAML document, or None for an empty document.

    Raises YamlProblem (with the line/column from the parser's mark) for any YAML syntax error, a tab used
    for indentation, more than one document, more than MAX_NODES values or more than MAX_DEPTH levels.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise YamlProblem(
            f"the YAML is nested too deeply (more than {MAX_DEPTH} levels)",
            0,
            0,
            "this is not an inventory or settings file; check the path",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        column = mark.column + 1 if mark else 0
        what = exc.problem or exc.context or "invalid YAML"
        fix = (
            "indent with spaces, not tabs" if "\\t" in what or "tab" in what else "fix the YAML syntax there"
        )
        raise YamlProblem(f"YAML syntax error: {what}", line, column, fix) from None
    except yaml.YAMLError as exc:  # e.g. a reader error for control characters, without a mark
        raise YamlProblem(f"YAML error: {exc}", 0, 0, "remove the invalid characters") from None
    if root is not None:
        _check_size(root)
    return root


def _check_size(root: Node) -> None:
    """Raise YamlProblem when the document holds more than MAX_NODES distinct values (aliases count once:
    they are the same node, and the readers never expand them except through `<<` merges) or nests them
    more than MAX_DEPTH levels deep."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"the YAML is nested too deeply (more than {MAX_DEPTH} levels)",
                line_of(node),
                column_of(node),
                "this is not an inventory or settings file; check the path",
            )
        if len(seen) > MAX_NODES:
            raise YamlProblem(
                f"the YAML holds more than {MAX_NODES} values",
                line_of(node),
                column_of(node),
                "this is not an inventory or settings file; check the path",
            )
        if isinstance(node, SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


_constructor = yaml.constructor.SafeConstructor()


def scalar(node: Node) -> object:
    """Return the Python value of a scalar node (str, int, float, bool, None, date...).

    Raises YamlProblem when the node is not a scalar or its value cannot be built (e.g. a date 2024-13-45).
    """
    if not isinstance(node, ScalarNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
        raise YamlProblem(f"expected a single value, found {kind}", line_of(node), column_of(node))
    try:
        return _constructor.construct_object(node, deep=True)
    except Exception as exc:  # the safe constructor raises ValueError/ConstructorError on odd scalars
        raise YamlProblem(
            f"cannot read value {node.value!r}: {exc}", line_of(node), column_of(node), "quote the value"
        ) from None


@dataclass(frozen=True)
class Entry:
    """One `key: value` of a mapping node, with the key's node for its line."""

    key: str
    key_node: Node
    value_node: Node

    @property
    def line(self) -> int:
        return line_of(self.key_node)


def mapping_entries(node: Node, what: str) -> list[Entry]:
    """Return the entries of a mapping node in file order, then those brought in by merge keys `<<:`.

    Raises YamlProblem when `node` is not a mapping, a key is not a plain string, a key repeats, or the
    merges nest deeper than MAX_MERGE_DEPTH or bring in more than MAX_MERGED_ENTRIES entries (a merge-key
    bomb: each level merging the one below several times would otherwise cost 9^depth).
    `what` names the mapping in the message ("cluster 'prod'", "settings file").
    """
    return _Merger(what).entries(node, depth=0)


class _Merger:
    """Resolves `<<:` merges for one mapping, each merged mapping once (by identity) and within a budget."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.done: dict[int, list[Entry]] = {}
        self.open: set[int] = set()
        self.budget = MAX_MERGED_ENTRIES

    def entries(self, node: Node, depth: int) -> list[Entry]:
        if id(node) in self.done:
            return self.done[id(node)]
        if depth > MAX_MERGE_DEPTH or id(node) in self.open:  # an anchor merged into itself
            raise YamlProblem(
                f"merge keys `<<` in {self.what} nest too deeply",
                line_of(node),
                column_of(node),
                f"merge at most {MAX_MERGE_DEPTH} levels, and never a mapping into itself",
            )
        self.open.add(id(node))
        own = _own_entries(node, self.what)
        # Merged keys come after, and only where the mapping does not set the key itself.
        keys = {e.key for e in own}
        result = own + [e for e in self._merged(node, depth) if e.key not in keys]
        self.open.discard(id(node))
        self.done[id(node)] = result
        return result

    def _merged(self, node: Node, depth: int) -> list[Entry]:
        """Return the entries `<<:` brings into `node`, earlier sources first (YAML merge-key precedence)."""
        out: list[Entry] = []
        known: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise YamlProblem(
                        f"`<<` in {self.what} must merge a mapping (an &anchor of `key: value` lines)",
                        line_of(key_node),
                        column_of(key_node),
                    )
                merged = self.entries(source, depth + 1)
                self.budget -= len(merged)  # counts every entry looked at, so the work stays bounded
                if self.budget < 0:
                    raise YamlProblem(
                        f"merge keys `<<` in {self.what} bring in more than {MAX_MERGED_ENTRIES} entries",
                        line_of(key_node),
                        column_of(key_node),
                        "merge each anchor once, without nesting merges of merges",
                    )
                for entry in merged:
                    if entry.key not in known:
                        known.add(entry.key)
                        out.append(entry)
        return out


def _own_entries(node: Node, what: str) -> list[Entry]:
    if not isinstance(node, MappingNode):
        raise YamlProblem(
            f"{what} must be a mapping of `key: value` lines, found {describe_node(node)}",
            line_of(node),
            column_of(node),
        )
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            continue
        key = scalar(key_node)
        if not isinstance(key, str):
            raise YamlProblem(
                f"key {key!r} in {what} is not a name",
                line_of(key_node),
                column_of(key_node),
                "use a text key",
            )
        if key in seen:
            raise YamlProblem(
                f"key '{key}' appears twice in {what} (first on line {seen[key]})",
                line_of(key_node),
                column_of(key_node),
                "keep only one of them",
            )
        seen[key] = line_of(key_node)
        entries.append(Entry(key, key_node, value_node))
    return entries


MERGE_TAG = "tag:yaml.org,2002:merge"


def sequence_items(node: Node, what: str) -> list[Node]:
    """Return the item nodes of a sequence node; raises YamlProblem when `node` is not a list."""
    if not isinstance(node, SequenceNode):
        raise YamlProblem(
            f"{what} must be a list (lines starting with '- '), found {describe_node(node)}",
            line_of(node),
            column_of(node),
        )
    return list(node.value)


def describe_node(node: Node) -> str:
    """Return a short description of a node for messages: "a list", "a mapping", "the value 'x'"."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    return f"the value {node.value!r}" if node.value != "" else "an empty value"
