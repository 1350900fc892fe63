"""kg's Streamlit app: `kg app`, or `streamlit run app.py` (KG_STORE picks the graph store).

`streamlit run` serves `app` (an st.App, see kg/app/shell.py) and runs this same file as the
page script of every browser session; AppTest and a Streamlit without st.App run it as a
plain script.
"""

import streamlit as st

from kg.app import shell

if shell.in_session():
    shell.render()
elif hasattr(st, "App"):
    app = st.App(__file__, middleware=shell.middleware(), lifespan=shell.lifespan)
