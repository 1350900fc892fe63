"""The script `kg app` hands to `streamlit run` (the checkout's app.py is the same): served as
an st.App (see shell.py), and run as the page script of every browser session."""

import streamlit as st

from kg.app import shell

if shell.in_session():
    shell.render()
elif hasattr(st, "App"):
    app = st.App(__file__, middleware=shell.middleware(), lifespan=shell.lifespan)
