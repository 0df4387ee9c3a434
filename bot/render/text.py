"""Pure text helpers: shortening, Markdown escaping and readable LaTeX."""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|>\[\]()<])")
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+)\s*(\{([^{}]*)\})?")
_LATEX_SIMPLE_ESCAPE = re.compile(r"\\([%&#$_{}])")
_SUPERSCRIPT = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_SUBSCRIPT = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")

_LATEX_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "infty": "∞", "times": "×", "cdot": "·", "pm": "±", "leq": "≤", "le": "≤", "geq": "≥",
    "ge": "≥", "neq": "≠", "approx": "≈", "sim": "~", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "Rightarrow": "⇒", "in": "∈", "sum": "Σ", "prod": "∏", "partial": "∂",
    "nabla": "∇", "ell": "ℓ", "log": "log", "ldots": "…", "dots": "…", "cdots": "⋯",
    "mathcal": "", "mathbb": "", "mathbf": "", "mathrm": "", "textbf": "", "textit": "",
    "emph": "", "text": "", "texttt": "", "boldsymbol": "", "operatorname": "", "textsc": "",
}


def one_line(text: str, width: int) -> str:
    """Collapse whitespace and shorten to `width` characters, ending with … when cut."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return shorten(flat, width)


def shorten(text: str, width: int) -> str:
    """Cut `text` to at most `width` characters, at a word boundary when one is near."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space > width * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def _latex_command(match: re.Match[str]) -> str:
    name, argument = match.group(1), match.group(3)
    if name in _LATEX_SYMBOLS:
        replacement = _LATEX_SYMBOLS[name]
        return replacement + (argument or "") if replacement or argument is not None else ""
    return argument if argument is not None else match.group(0)


def _scripts(text: str) -> str:
    text = re.sub(r"\^\{([0-9+\-=()n]+)\}|\^([0-9n])", lambda m: (m.group(1) or m.group(2)).translate(_SUPERSCRIPT), text)
    return re.sub(r"_\{([0-9+\-=()]+)\}|_([0-9])(?![0-9A-Za-z])", lambda m: (m.group(1) or m.group(2)).translate(_SUBSCRIPT), text)


def readable_latex(text: str) -> str:
    """Turn the LaTeX people put in titles into plain Unicode: $\\alpha$-NeRF -> α-NeRF."""
    if "$" not in text and "\\" not in text:
        return text
    out = _LATEX_SIMPLE_ESCAPE.sub(r"\1", text)
    if "\\" in out:
        out = _LATEX_COMMAND.sub(_latex_command, out)

    def math(match: re.Match[str]) -> str:
        return _scripts(match.group(1)).replace("{", "").replace("}", "")

    return re.sub(r"\$([^$]*)\$", math, out)


def escape_markdown(text: str) -> str:
    """Escape everything Discord would read as Markdown, a mention or a masked link."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def display_title(title: str, width: int = 256) -> str:
    """A title as shown: one line, LaTeX made readable, shortened, not yet escaped."""
    return one_line(readable_latex(title), width)
