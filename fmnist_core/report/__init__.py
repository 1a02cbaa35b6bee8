"""A study as a report to hand in: one self-contained HTML file, and a PDF printed from it.

method.py  the method section's facts: architectures, training settings, split, seeds, machines
html.py    the HTML file (question, method, results, reading, appendix), every run-folder string escaped
style.py   its stylesheet (screen, phone width, print) and the script that opens the appendix to print
pdf.py     the PDF, printed by headless Chromium through Playwright
"""

from .html import report_html
from .pdf import ChromiumMissing, PdfError, find_chromium, print_pdf

__all__ = ["ChromiumMissing", "PdfError", "find_chromium", "print_pdf", "report_html"]
