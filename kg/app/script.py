"""The script `kg app` hands to `streamlit run` (the checkout's app.py does the same)."""

from kg.app.main import run

run()
