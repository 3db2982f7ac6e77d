"""Synthetic Olist data: nine CSV files in the exact Olist format, at any scale, from a seed.

The real data cannot ship with the repository, so a fresh clone generates its own. The generator
draws from distributions calibrated against the real sample (`profile.py`), reproduces the real
data's quirks (`orders.py`, `catalog.py`, `places.py`) and writes the files in the originals'
byte format (`csv_writer.py`). `generate.py` ties it together in bounded memory.
"""
