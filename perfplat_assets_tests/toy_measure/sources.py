"""The toy measure's source from its setting, or its own sample while the setting is unset."""

from __future__ import annotations

from typing import Any

from perfplat_assets.common.settings import Settings, env, is_set
from perfplat_assets_tests.toy_measure.resources import SETTING, ProcessingTimes, SampleProcessingTimes


def sources(settings: Settings) -> dict[str, Any]:
    return {
        "processing_times": settings.source(
            ProcessingTimes, is_set(SETTING), sample=SampleProcessingTimes, url=env(SETTING)
        )
    }
