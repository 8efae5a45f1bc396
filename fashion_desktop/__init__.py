"""Fashion Lens: tells which Fashion-MNIST category a photo shows, whether it is blurry, and where its edges are."""

__version__ = "0.1.0"
