"""`make run`: Streamlit's own `streamlit run app.py`, with the lab's heavy start-up work begun at once.

Importing torch and the library, loading the dataset and listing the runs take about 3 s. Begun in a
background thread as the server starts, they overlap the server's and the browser's own start-up
instead of following them, so the first page draws seconds sooner. Same arguments as `streamlit run`.
"""
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def warm_up() -> None:
    sys.path.insert(0, str(ROOT))
    import app_support
    app_support.warm_up()


if __name__ == "__main__":
    threading.Thread(target=warm_up, name="fmnist-warm-up", daemon=True).start()
    from streamlit.web.cli import main
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(main())
