"""kg's Streamlit app: `kg app`, or `streamlit run app.py` (KG_STORE picks the graph store)."""

from kg.app.main import run

run()
