"""The lab's pages in sidebar order (SITE, PAGES) and its title: plain data that every other part of
the package can import without a cycle."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """One page: its file (relative to app.py), and its title, icon and section in the sidebar."""

    key: str
    path: str
    title: str
    icon: str
    section: str


# The pages, in sidebar order: the one list. app.py is Home; the others are Streamlit's multipage
# folder, pages/, so a deep link such as /compare runs pages/compare.py directly (each page draws
# the frame itself: see frame()).
SITE = (
    Page("home", "app.py", "Home", ":material/home:", "Lab"),
    Page("train", "pages/train.py", "Train", ":material/model_training:", "Train and compare"),
    Page("compare", "pages/compare.py", "Compare runs", ":material/stacked_line_chart:", "Train and compare"),
    Page("studies", "pages/studies.py", "Studies", ":material/science:", "Train and compare"),
    Page("search", "pages/search.py", "Search", ":material/tune:", "Train and compare"),
    Page(
        "reconstructions",
        "pages/reconstructions.py",
        "Reconstructions & denoising",
        ":material/blur_on:",
        "Look inside",
    ),
    Page("confusion", "pages/confusion.py", "Confusion & errors", ":material/grid_on:", "Look inside"),
    Page("classify", "pages/classify.py", "Classify your image", ":material/draw:", "Look inside"),
    Page("latent", "pages/latent.py", "Latent space", ":material/scatter_plot:", "Look inside"),
)
PAGES = {p.key: p.path for p in SITE}  # key -> file, for st.page_link and AppTest.switch_page
APP_TITLE = "Fashion-MNIST Lab"
