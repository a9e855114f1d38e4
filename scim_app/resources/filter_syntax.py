"""Filters parsed by scim2-filter-parser, with its string values read as what RFC 7644
§3.4.2.2 says they are: JSON strings. Its own lexer ends a value at the first `"` and
keeps backslashes, so `displayName eq "Team \"A\""` (a group Entra looks up by a name
with quotes in it) could not be parsed and `"R&D \\ EMEA"` matched nothing.
"""

import json

from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser


class Lexer(SCIMLexer):
    tokens = SCIMLexer.tokens

    @_(r'"(?:[^"\\]|\\.)*"')  # noqa: F821 (sly provides _ inside a Lexer's body)
    def COMP_VALUE(self, t):
        # A bad escape ("\x") raises ValueError: the filter could not be parsed (400).
        t.value = json.loads(t.value, strict=False)
        return t


def parse(text: str) -> ast.AST | None:
    """The filter's syntax tree; None for an incomplete filter. Raises on a malformed one
    (ValueError, the parser's SCIMParserError) and on one nested too deeply (RecursionError)."""
    return SCIMParser().parse(Lexer().tokenize(text))
