"""The toy measure's source from its setting (the service's own: `PERFPLAT_<SERVICE>_PROCESSING_TIMES_URL`),
or its own sample while the setting is unset."""

from __future__ import annotations

from typing import Any

from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import Settings, env, is_set, service_variable
from perfplat_assets_tests.toy_measure.resources import ProcessingTimes, SampleProcessingTimes


def sources(settings: Settings, service: Service) -> dict[str, Any]:
    variable = service_variable(service, "PROCESSING_TIMES_URL")
    return {
        "processing_times": settings.source(
            ProcessingTimes,
            is_set(variable),
            sample=SampleProcessingTimes,
            url=env(variable),
            variable=variable,
        )
    }
