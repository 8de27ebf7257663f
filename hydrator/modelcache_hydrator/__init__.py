"""The hydration program: stages one commit of a Hugging Face model repository on a claim (hydrator.md)."""

# The function's version (Sources/FunctionServer/Version.swift): the image is tagged with it.
__version__ = "0.1.0"
