"""The Streamlit app (started by `kg app` or `streamlit run app.py`).

Page modules only wire widgets to kg/ library calls (through kg.app.data, which caches
them); nothing here runs at import time. kg.app.main.run() is the whole app.
"""
