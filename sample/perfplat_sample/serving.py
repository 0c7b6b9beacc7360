"""What every embedded source says of itself: it serves the sample in place of its setting's source."""

from __future__ import annotations

from typing import ClassVar


class ServesTheSample:
    """Mixed into a production source class, before it: the stand-in serves the sample, for its setting."""

    setting: ClassVar[str]

    @property
    def embedded(self) -> bool:
        return True

    @property
    def sample_setting(self) -> str | None:
        return self.setting_name

    def describe(self) -> str:
        where = getattr(self, "data_dir", None)
        return f"embedded sample{f' in {where}' if where else ''} ({self.setting_name} unset)"
