"""Fashion-MNIST Lab: `streamlit run app.py`. Frames the pages and the shared sidebar."""
import streamlit as st

import app_support as ui

st.set_page_config(page_title="Fashion-MNIST Lab", page_icon=":material/checkroom:", layout="wide")

nav = st.navigation({
    "Lab": [st.Page(ui.PAGES["home"], title="Home", icon=":material/home:", default=True)],
    "Train and compare": [
        st.Page(ui.PAGES["train"], title="Train", icon=":material/model_training:"),
        st.Page(ui.PAGES["compare"], title="Compare runs", icon=":material/stacked_line_chart:"),
        st.Page(ui.PAGES["studies"], title="Studies", icon=":material/science:"),
    ],
    "Look inside": [
        st.Page(ui.PAGES["reconstructions"], title="Reconstructions & denoising", icon=":material/blur_on:"),
        st.Page(ui.PAGES["confusion"], title="Confusion & errors", icon=":material/grid_on:"),
        st.Page(ui.PAGES["classify"], title="Classify your image", icon=":material/draw:"),
    ],
})
try:
    nav.run()
finally:   # after the page (a page's st.stop() still gets it): the device line imports torch, Home does not
    ui.sidebar()
