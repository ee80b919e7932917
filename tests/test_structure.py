"""House rules the code keeps by construction: thin views, a domain without HTTP, no import circles."""

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[1] / "portal"
MAX_VIEW_BODY = 15
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def _modules():
    for path in sorted(PORTAL.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PORTAL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_view(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in ROUTE_DECORATORS:
            return True
    return False


def _body_lines(function: ast.FunctionDef) -> int:
    """Lines of the body, not counting the docstring."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def test_every_view_body_is_at_most_15_lines():
    views, long = 0, []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and _is_view(node):
                views += 1
                if (lines := _body_lines(node)) > MAX_VIEW_BODY:
                    long.append(f"{path.relative_to(PORTAL)}:{node.lineno} {node.name} ({lines} lines)")
    assert views > 50  # the walk finds the views at all
    assert not long, "views longer than 15 lines:\n" + "\n".join(long)


def _imports(path: Path, tree: ast.Module) -> set[str]:
    """Modules of portal this module imports at import time (module level, not inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("portal")}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            if not module.startswith("portal"):
                continue
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}
    return found


def test_no_import_circle_in_portal():
    modules = {_module_name(path): (path, tree) for path, tree in _modules()}
    graph = {name: {m for m in _imports(*modules[name]) if m in modules and m != name} for name in modules}
    # a package's __init__ importing its own submodules to register them is how Flask wires routes,
    # not a circle between ideas: drop the edges from a package to its own children
    graph = {name: {m for m in deps if not m.startswith(name + ".")} for name, deps in graph.items()}
    state, cycles = {}, []

    def visit(name, trail):
        state[name] = "open"
        for dep in sorted(graph[name]):
            if state.get(dep) == "open":
                cycles.append(" → ".join([*trail[trail.index(dep):], dep]))
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_the_domain_never_reads_the_request_nor_imports_the_web_layer():
    offenders = []
    for path, tree in _modules():
        name = _module_name(path)
        if not (name.startswith("portal.domain") or name == "portal.calendar"):
            continue
        for module in _imports(path, tree) | {
                f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                for a in n.names}:
            if module.startswith(("portal.web", "portal.blueprints", "flask.request", "flask_login",
                                  "flask.session", "flask.g")):
                offenders.append(f"{name}: {module}")
    assert not offenders, offenders
