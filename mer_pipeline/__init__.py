"""mer_pipeline: a reproducible micro-expression recognition pipeline.

Data flows one way: raw dataset -> clip index -> aligned faces store -> modality stores -> models -> report.
"""

__version__ = "0.1.0"
