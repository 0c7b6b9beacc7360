"""Where take-up figures come from: Sirius, or the product team's figures file when one is named."""

from collections.abc import Sequence

from pydantic import Field

from perfplat_assets.common.months import Month
from perfplat_assets.common.sources import SourceResource
from perfplat_assets.common.sql_source import SqlSource
from perfplat_assets.digital_take_up.calculation import TakeUpFigures
from perfplat_assets.digital_take_up.queries.figures_file import SETTING, FiguresFileError, read_figures_file
from perfplat_assets.digital_take_up.queries.sirius import DEFAULT_CONTRACT, SiriusContract, read_applications


class SiriusDatabase(SqlSource):
    """OPG's case-management system, through SQLAlchemy; its schema is private, so names are configurable."""

    setting = "PERFPLAT_SIRIUS_DB_URL"
    cases_table: str = Field(default=DEFAULT_CONTRACT.table)
    case_type_column: str = Field(default=DEFAULT_CONTRACT.case_type_column)
    receipt_date_column: str = Field(default=DEFAULT_CONTRACT.receipt_date_column)
    online_id_column: str = Field(default=DEFAULT_CONTRACT.online_id_column)
    lpa_case_type: str = Field(default=DEFAULT_CONTRACT.lpa_case_type)

    def contract(self) -> SiriusContract:
        return SiriusContract(
            self.cases_table,
            self.case_type_column,
            self.receipt_date_column,
            self.online_id_column,
            self.lpa_case_type,
        )

    def applications(self, months: Sequence[Month]) -> dict[Month, TakeUpFigures]:
        with self.connection(months) as connection:
            return read_applications(connection, self.contract(), months)


class TakeUpFiguresFile(SourceResource):
    """The product team's CSV of figures: `month,digital_applications,total_applications,note`."""

    setting = SETTING
    path: str | None = Field(default=None, description="Unset: take-up comes from Sirius.")

    @property
    def embedded(self) -> bool:
        return False  # never the sample: unset, take-up is Sirius's (or its sample)

    @property
    def supersedes(self) -> str | None:
        """A named file takes precedence over Sirius, whose sample is then not served."""
        return SiriusDatabase.setting if self.path else None

    def figures(self) -> dict[Month, TakeUpFigures]:
        """Read when the asset runs, so a bad file fails the run with the file's name, line and fix."""
        if self.path is None:
            raise FiguresFileError(f"{SETTING} is not set: name the product team's CSV, or read Sirius.")
        return read_figures_file(self.path)
