"""Markdown digests: every template variation forks write, one table row each."""

from __future__ import annotations

import pytest

from bot.ingest.markdown import parse_markdown

UPSTREAM = """\
<div id=toc></div>

# Table of Contents

- [cs.CV](#cs.CV) [Total: 1]

<div id='cs.CV'></div>

# cs.CV [[Back]](#toc)

### [1] [A Title with $\\alpha$ and [u,v] brackets](https://arxiv.org/abs/2601.20911)
*Ann Author,Bob Builder*

Main category: cs.CV

TL;DR: Short summary.


<details>
  <summary>Details</summary>
Motivation: Why.

Method: How.

Result: What.

Conclusion: So.

Abstract: First line of the abstract.
  Method: an indented label inside the abstract stays abstract text.
Second line, 100\\% sure, x<n and <think> stay as written.

</details>
"""

BOLD_LABELS = """\
# cs.CL [[Back]](#toc)

### [1] [Bold Labels](https://arxiv.org/abs/2601.00001v2)
**Authors:** Carla Cruz, Dan Doe
**Main category:** cs.CL
**TL;DR:** Bold summary.
**Motivation**: Bold why.
**Method:** Bold how.
**Result:** Bold what.
**Conclusion:** Bold so.
**Abstract:** Bold abstract.
"""

BLOCK_QUOTE = """\
# cs.LG [[Back]](#toc)

### [1] [Quoted](https://arxiv.org/abs/2601.00002)
*Eve Early*
> **TL;DR:** Quoted summary
> that runs over two lines.
> **Abstract:** Quoted abstract.
"""

ONE_LINE_META = """\
<div id='cs.AI'></div>

# cs.AI [[Back]](#toc)

### [7] [One Line Meta](https://arxiv.org/abs/2601.00003)
*Fay Fox,Gus Gray* | **Main category: cs.RO**

**TL;DR:** Meta on one line.
**Keywords:** robots, planning
**Comment:** 12 pages, 3 figures
**Translated title:** 一行元数据
<details><summary>Details</summary>
**Abstract:** The abstract.
</details>
"""

MISSING_FIELDS = """\
# cs.CV [[Back]](#toc)

### [1] [No Summary At All](https://arxiv.org/abs/2601.00004)
*Hal Hill*

Main category: cs.CV

<details>
  <summary>Details</summary>
Abstract: Only an abstract.
</details>

### [2] [Second Paper](https://arxiv.org/abs/2601.00005)
*Ida Ink*

TL;DR: Second.
"""

HTML_FRAGMENTS = """\
# cs.IR [[Back]](#toc)

### [1] [HTML Fields](https://arxiv.org/abs/2601.00006)
<p><b>Authors:</b> Jo Jones &amp; co</p>
<p><b>TL;DR:</b> Uses &lt;entities&gt; &amp; tags.</p>
Abstract: Plain.
"""

ESCAPED = """\
# cs.CV [[Back]](#toc)

### [1] [Fast &amp; Robust &lt;Segmentation&gt;](https://arxiv.org/abs/2601.00010)
*Ann O&#39;Neil*

TL;DR: R&D for x&lt;n &amp unchanged; AT&T stays.
"""

CHINESE_LABELS = """\
# cs.CL [[Back]](#toc)

### [1] [Chinese Labels](https://arxiv.org/abs/2601.00007)
*Kim Ko*

TL;DR: 中文摘要。
动机：为什么。
方法：怎么做。
摘要: The abstract.
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(UPSTREAM, {
            "arxiv_id": "2601.20911", "title": "A Title with $\\alpha$ and [u,v] brackets",
            "authors": ["Ann Author", "Bob Builder"], "primary_category": "cs.CV",
            "tldr": "Short summary.", "motivation": "Why.", "method": "How.", "result": "What.",
            "conclusion": "So.",
            "abstract": "First line of the abstract.\n  Method: an indented label inside the abstract stays abstract text.\n"
                        "Second line, 100\\% sure, x<n and <think> stay as written.",
        }, id="upstream"),
        pytest.param(BOLD_LABELS, {
            "arxiv_id": "2601.00001", "authors": ["Carla Cruz", "Dan Doe"], "primary_category": "cs.CL",
            "tldr": "Bold summary.", "motivation": "Bold why.", "method": "Bold how.",
            "result": "Bold what.", "conclusion": "Bold so.", "abstract": "Bold abstract.",
        }, id="bold-labels"),
        pytest.param(BLOCK_QUOTE, {
            "arxiv_id": "2601.00002", "authors": ["Eve Early"], "primary_category": "cs.LG",
            "tldr": "Quoted summary\nthat runs over two lines.", "abstract": "Quoted abstract.",
        }, id="block-quote"),
        pytest.param(ONE_LINE_META, {
            "arxiv_id": "2601.00003", "authors": ["Fay Fox", "Gus Gray"], "primary_category": "cs.RO",
            "section": "cs.AI", "tldr": "Meta on one line.", "keywords": "robots, planning",
            "comment": "12 pages, 3 figures", "translated_title": "一行元数据", "abstract": "The abstract.",
        }, id="authors-and-category-on-one-line"),
        pytest.param(MISSING_FIELDS, {
            "arxiv_id": "2601.00004", "authors": ["Hal Hill"], "tldr": "", "method": "",
            "abstract": "Only an abstract.", "primary_category": "cs.CV",
        }, id="missing-fields"),
        pytest.param(HTML_FRAGMENTS, {
            "arxiv_id": "2601.00006", "authors": ["Jo Jones & co"], "tldr": "Uses <entities> & tags.",
            "abstract": "Plain.", "primary_category": "cs.IR",
        }, id="html-fragments"),
        pytest.param(ESCAPED, {
            "arxiv_id": "2601.00010", "title": "Fast & Robust <Segmentation>", "authors": ["Ann O'Neil"],
            "tldr": "R&D for x<n &amp unchanged; AT&T stays.",
        }, id="html-entities"),
        pytest.param(CHINESE_LABELS, {
            "arxiv_id": "2601.00007", "tldr": "中文摘要。", "motivation": "为什么。", "method": "怎么做。",
            "abstract": "The abstract.",
        }, id="chinese-labels"),
    ],
)
def test_template_variation_gives_the_expected_first_paper(text: str, expected: dict[str, object]) -> None:
    papers, skipped, _ = parse_markdown(text.splitlines())
    assert not skipped
    paper = papers[0]
    for name, value in expected.items():
        assert getattr(paper, name) == value, name


def test_a_summary_label_is_the_tldr_but_the_details_tag_is_not() -> None:
    text = "### [1] [T](https://arxiv.org/abs/2601.00011)\n*A*\n- **Summary**: One line.\n<details><summary>Details</summary>\nAbstract: X.\n</details>\n"
    papers, _, _ = parse_markdown(text.splitlines())
    assert (papers[0].tldr, papers[0].abstract) == ("One line.", "X.")


def test_missing_category_falls_back_to_the_section_and_second_paper_survives() -> None:
    papers, _, _ = parse_markdown(MISSING_FIELDS.splitlines())
    assert [p.arxiv_id for p in papers] == ["2601.00004", "2601.00005"]
    assert papers[1].primary_category == "cs.CV"
    assert papers[1].tldr == "Second."


def test_a_label_already_read_is_text_when_it_comes_again() -> None:
    text = "### [1] [T](https://arxiv.org/abs/2601.00008)\n*A*\nMethod: first.\nAbstract: Start.\nMethod: this is abstract text.\n"
    papers, _, _ = parse_markdown(text.splitlines())
    assert papers[0].method == "first."
    assert papers[0].abstract == "Start.\nMethod: this is abstract text."


def test_header_without_arxiv_link_is_reported_with_its_line() -> None:
    text = "# cs.CV\n\n### [1] [No Link](https://example.org/paper)\n*A*\n\n### [2] [Good](https://arxiv.org/abs/2601.00009)\n*B*\n"
    papers, skipped, _ = parse_markdown(text.splitlines())
    assert [p.arxiv_id for p in papers] == ["2601.00009"]
    assert skipped.first[0].line == 3 and "no arXiv link" in skipped.first[0].reason


def test_pdf_link_and_old_style_ids_are_understood() -> None:
    text = "### [1] [Old](https://arxiv.org/pdf/hep-th/9901001v3)\n*A*\n### [2] [New](http://arxiv.org/abs/2601.12345v1)\n*B*\n"
    papers, _, _ = parse_markdown(text.splitlines())
    assert [p.arxiv_id for p in papers] == ["hep-th/9901001", "2601.12345"]
