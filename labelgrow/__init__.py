"""labelgrow: teach a multilingual NER model new entity types without forgetting the old ones.

The public functions are imported lazily so that ``import labelgrow`` (and ``labelgrow --help``) stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "extend": "labelgrow.extension",
    "evaluate": "labelgrow.evaluation",
    "predict": "labelgrow.prediction",
    "diff": "labelgrow.diffing",
    "annotate": "labelgrow.annotating",
    "export": "labelgrow.exporting",
    "compress": "labelgrow.compression",
    "adapt": "labelgrow.adaptation",
    "AdaptArguments": "labelgrow.adaptation",
    "AdaptResult": "labelgrow.adaptation",
    "CompressArguments": "labelgrow.compression",
    "CompressResult": "labelgrow.compression",
    "ExportArguments": "labelgrow.exporting",
    "ExportResult": "labelgrow.exporting",
    "AnnotateArguments": "labelgrow.annotating",
    "AnnotateResult": "labelgrow.annotating",
    "ExtendArguments": "labelgrow.configuration",
    "EvalArguments": "labelgrow.configuration",
    "DiffArguments": "labelgrow.diffing",
    "PredictArguments": "labelgrow.prediction",
    "ExtendResult": "labelgrow.extension",
    "EvalResult": "labelgrow.evaluation",
    "DiffResult": "labelgrow.diffing",
    "LabelgrowError": "labelgrow.errors",
    "LabelSet": "labelgrow.labels",
    "expand_classifier": "labelgrow.modeling",
}

__all__ = [
    "AdaptArguments",
    "AdaptResult",
    "AnnotateArguments",
    "AnnotateResult",
    "CompressArguments",
    "CompressResult",
    "DiffArguments",
    "DiffResult",
    "EvalArguments",
    "EvalResult",
    "ExportArguments",
    "ExportResult",
    "ExtendArguments",
    "ExtendResult",
    "LabelSet",
    "LabelgrowError",
    "PredictArguments",
    "__version__",
    "adapt",
    "annotate",
    "compress",
    "diff",
    "evaluate",
    "expand_classifier",
    "export",
    "extend",
    "predict",
]

if TYPE_CHECKING:
    from labelgrow.adaptation import AdaptArguments, AdaptResult, adapt
    from labelgrow.annotating import AnnotateArguments, AnnotateResult, annotate
    from labelgrow.compression import CompressArguments, CompressResult, compress
    from labelgrow.configuration import EvalArguments, ExtendArguments
    from labelgrow.diffing import DiffArguments, DiffResult, diff
    from labelgrow.errors import LabelgrowError
    from labelgrow.evaluation import EvalResult, evaluate
    from labelgrow.exporting import ExportArguments, ExportResult, export
    from labelgrow.extension import ExtendResult, extend
    from labelgrow.labels import LabelSet
    from labelgrow.modeling import expand_classifier
    from labelgrow.prediction import PredictArguments, predict


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'labelgrow' has no attribute {name!r}")
