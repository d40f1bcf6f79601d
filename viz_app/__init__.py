"""The Streamlit viewer of representation flows (``streamlit run viz_app/main.py``)."""
