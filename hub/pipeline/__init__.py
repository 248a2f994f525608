"""The ingest pipeline: validation, bounded ordered fan-out, counters."""

from hub.pipeline.bus import Envelope, Handler, Pipeline, PipelineClosed, PipelineStats
from hub.pipeline.validate import Limits, check

__all__ = ["Envelope", "Handler", "Limits", "Pipeline", "PipelineClosed", "PipelineStats", "check"]
