"""The hydration program: stages one commit of a Hugging Face model repository on a claim (hydrator.md)."""

__version__ = "0.1.0"
