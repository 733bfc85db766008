#!/usr/bin/env python3
"""calculator: {"expression": "..."} on stdin -> its value. Safe: the expression is parsed with
ast and only numbers, arithmetic operators and a fixed list of math functions are evaluated."""
import ast, json, math, operator, sys

OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
             ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}
FUNCTIONS = {name: getattr(math, name) for name in
             ["sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "log", "log10", "log2", "exp",
              "floor", "ceil", "factorial", "degrees", "radians", "hypot"]}
FUNCTIONS.update(abs=abs, round=round, min=min, max=max)
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def evaluate(node):
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = evaluate(node.left), evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 10000:
            raise ValueError("exponent too large")
        return OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](evaluate(node.operand))
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return CONSTANTS[node.id]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and not node.keywords):
        return FUNCTIONS[node.func.id](*[evaluate(a) for a in node.args])
    raise ValueError(f"unsupported element: {ast.dump(node)[:60]}")


expression = json.load(sys.stdin)["expression"]
try:
    value = evaluate(ast.parse(expression.replace("^", "**"), mode="eval"))
except ZeroDivisionError:
    sys.exit(print("calculator: division by zero", file=sys.stderr) or 1)
except (SyntaxError, ValueError, TypeError, OverflowError) as e:
    sys.exit(print(f"calculator: cannot evaluate {expression!r}: {e}", file=sys.stderr) or 1)
if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
    value = int(value)
print(value)
