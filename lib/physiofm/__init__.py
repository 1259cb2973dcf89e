"""physiofm: one thin library behind a reproducible study of five physiological-signal pretraining papers."""

__version__ = "0.1.0"
