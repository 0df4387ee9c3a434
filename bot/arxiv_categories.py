"""arXiv category codes and their names, for /categories and autocomplete."""

from __future__ import annotations

import re

CATEGORY_NAMES: dict[str, str] = {
    "cs.AI": "Artificial Intelligence",
    "cs.AR": "Hardware Architecture",
    "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science",
    "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language",
    "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.CY": "Computers and Society",
    "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DL": "Digital Libraries",
    "cs.DM": "Discrete Mathematics",
    "cs.DS": "Data Structures and Algorithms",
    "cs.ET": "Emerging Technologies",
    "cs.FL": "Formal Languages and Automata Theory",
    "cs.GL": "General Literature",
    "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory",
    "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory",
    "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science",
    "cs.MA": "Multiagent Systems",
    "cs.MM": "Multimedia",
    "cs.MS": "Mathematical Software",
    "cs.NA": "Numerical Analysis",
    "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture",
    "cs.OH": "Other Computer Science",
    "cs.OS": "Operating Systems",
    "cs.PF": "Performance",
    "cs.PL": "Programming Languages",
    "cs.RO": "Robotics",
    "cs.SC": "Symbolic Computation",
    "cs.SD": "Sound",
    "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control",
    "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control",
    "stat.AP": "Applications (Statistics)",
    "stat.CO": "Computation (Statistics)",
    "stat.ME": "Methodology (Statistics)",
    "stat.ML": "Machine Learning (Statistics)",
    "stat.OT": "Other Statistics",
    "stat.TH": "Statistics Theory",
    "math.NA": "Numerical Analysis (Mathematics)",
    "math.OC": "Optimization and Control",
    "math.PR": "Probability",
    "math.ST": "Statistics Theory (Mathematics)",
    "math.IT": "Information Theory (Mathematics)",
    "math.CO": "Combinatorics",
    "math.DS": "Dynamical Systems",
    "physics.comp-ph": "Computational Physics",
    "physics.med-ph": "Medical Physics",
    "physics.data-an": "Data Analysis, Statistics and Probability",
    "physics.soc-ph": "Physics and Society",
    "quant-ph": "Quantum Physics",
    "cond-mat.dis-nn": "Disordered Systems and Neural Networks",
    "q-bio.BM": "Biomolecules",
    "q-bio.NC": "Neurons and Cognition",
    "q-bio.QM": "Quantitative Methods",
    "q-bio.TO": "Tissues and Organs",
    "q-fin.CP": "Computational Finance",
    "q-fin.ST": "Statistical Finance",
    "econ.EM": "Econometrics",
    "econ.GN": "General Economics",
    "astro-ph.IM": "Instrumentation and Methods for Astrophysics",
    "hep-th": "High Energy Physics - Theory",
    "hep-ph": "High Energy Physics - Phenomenology",
    "gr-qc": "General Relativity and Quantum Cosmology",
}


def category_name(code: str) -> str:
    """Return the arXiv name of a category code, or an empty string when it is not known."""
    return CATEGORY_NAMES.get(code, "")


# Archives whose papers carry the archive name itself as category (no subject class).
_WHOLE_ARCHIVES = {"hep-th", "hep-ph", "hep-ex", "hep-lat", "quant-ph", "gr-qc", "nucl-th", "nucl-ex", "math-ph", "nlin", "astro-ph", "cond-mat"}
_CODE = re.compile(r"^[a-z]+(?:-[a-z]+)?\.[A-Za-z][A-Za-z\-]+$")


def is_category_code(text: str) -> bool:
    """True for text shaped like an arXiv category: cs.CV, eess.IV, physics.med-ph, hep-th."""
    return text in _WHOLE_ARCHIVES or bool(_CODE.match(text))
