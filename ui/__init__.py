"""Streamlit pages of the lantian app: each module lays out widgets and calls forecast/response; nothing else."""
