"""How the pages' templates are compiled: as Jinja compiles them, less the work a page repeats for
nothing. A list page's template was two-thirds of its processor time; these took a fifth off a
whole request (`/funds` 4.0 → 3.1 ms of the server's processor, `/needs` 4.5 → 3.4)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from jinja2 import Environment, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.idtracking import Symbols
from markupsafe import _escape_inner  # type: ignore[attr-defined]  # the C escape behind markupsafe.escape


class _PlainCalls(CodeGenerator):
    """Compiles a call of one of the environment's plain functions (`_`, `localized`, ...) as a
    Python call. Jinja sends every call through `Context.call`, which looks for a context to pass,
    and inside a loop or block hands it dicts of the loop's and block's variables to drop again:
    two-thirds of a list page's processor time is its template, and a sixth of that was those
    calls (`/funds`: 230 a page). So is a call of a macro the template imports. Names a template
    assigns itself, macros it defines and anything that takes a context still go through
    `Context.call`."""

    environment: Templates
    imported: frozenset[str] = frozenset()  # names bound only by an import: macros, called straight too

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        self.imported = _imported_only(node)
        super().visit_Template(node, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        callee = node.node
        if forward_caller or not self._plain(callee, frame):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        self.visit(callee, frame)
        self.write("(*()")  # signature() writes ", " before every argument
        self.signature(node, frame)
        self.write(")")

    def _plain(self, callee: nodes.Expr, frame: Frame) -> bool:
        """Whether the callee takes no context from Jinja: one of the environment's plain functions, or
        a macro this template imported (`{% from x import m %}` then `m()`, `{% import x as f %}` then
        `f.m()`), which `Context.call` would only hand its arguments on to."""
        if isinstance(callee, nodes.Name):
            return callee.name in self.imported or (callee.name in self.environment.plain
                                                     and not _assigned(callee.name, frame))
        return (isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Name)
                and callee.node.name in self.imported)

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escaped(")
        if finalize.src is not None:
            self.write(finalize.src)


def _escaped(value: Any) -> str:
    """What `{{ value }}` writes: markupsafe's escape without wrapping the text in a new Markup,
    which the page's join drops again at once (a tenth of a list page's processor time went to
    making them). Where output is kept as a value (a macro, a set block, a filter block) Jinja
    wraps the joined text in Markup itself."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_inner(str(value))


def _imported_only(template: nodes.Template) -> frozenset[str]:
    """The names a template binds by importing and by nothing else (no set, loop, macro or parameter
    of the same name anywhere in it)."""
    imported = {node.target for node in template.find_all(nodes.Import)}
    for node in template.find_all(nodes.FromImport):
        imported.update(name if isinstance(name, str) else name[1] for name in node.names)
    stored = {name.name for name in template.find_all(nodes.Name) if name.ctx in ("store", "param")}
    stored.update(macro.name for macro in template.find_all(nodes.Macro))
    return frozenset(imported - stored)


def _assigned(name: str, frame: Frame) -> bool:
    """Whether the template itself gives `name` a value where this frame sees it (a set, a loop
    variable, a macro's parameter), rather than reading it from the environment."""
    symbols: Symbols | None = frame.symbols
    while symbols is not None:
        if name in symbols.stores:
            return True
        symbols = symbols.parent
    return False


class Templates(Environment):
    """Jinja's environment with pages compiled leaner (`_PlainCalls`, `_escaped`, `make_globals`),
    the HTML the same to the byte (tests/app/test_pages.py holds it)."""

    code_generator_class = _PlainCalls
    escaped = staticmethod(_escaped)
    plain: frozenset[str] = frozenset()  # the globals called straight (`find_plain_functions`)

    def find_plain_functions(self) -> None:
        """Once every global is set: the functions that take no context from Jinja."""
        self.plain = frozenset(name for name, value in self.globals.items()
                               if callable(value) and not isinstance(value, type) and not hasattr(value, "jinja_pass_arg"))

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as a plain dict, where Jinja chains the template's own over the
        environment's: every render copies them into its context, twice, and iterating the chain
        in Python took a twentieth of a list page's processor time. Every global is set before the
        first template loads (`template_environment`), so a copy misses nothing."""
        return {**self.globals, **(d or {})}
