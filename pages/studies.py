import streamlit as st
st.title("studies")
st.info("This page is being built.")
