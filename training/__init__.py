"""Rebuilds the Keras model that Fashion Lens ships in ``resources/model/``."""
