"""Applications received per month in Sirius, counted in SQL.

Sirius's schema is private: the table and column names are configuration, defaulting to the contract
`cases(case_type, receipt_date, online_lpa_id)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Date, MetaData, Select, String, Table, func, literal, select

from perfplat_assets.common.answers import Answer
from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.sql import month_bucket, window
from perfplat_assets.digital_take_up.calculation import TakeUpFigures, applications_answer


@dataclass(frozen=True)
class SiriusContract:
    table: str = "cases"
    case_type_column: str = "case_type"
    receipt_date_column: str = "receipt_date"
    online_id_column: str = "online_lpa_id"
    lpa_case_type: str = "LPA"

    def table_object(self) -> Table:
        return Table(
            self.table,
            MetaData(),
            Column(self.case_type_column, String),
            Column(self.receipt_date_column, Date),
            Column(self.online_id_column, String),
        )


# The contract perfplat assumes (and the embedded sample holds) unless configured otherwise.
DEFAULT_CONTRACT = SiriusContract()


def applications_query(contract: SiriusContract, months: Sequence[Month]) -> Select:
    months = contiguous(months)
    table = contract.table_object()
    received = table.c[contract.receipt_date_column]
    online_id = table.c[contract.online_id_column]
    bucket = month_bucket(received, months, dates=True).label("month")
    return (
        select(
            bucket,
            # An empty reference is no reference: only forms produced by Make an LPA carry one.
            func.count(func.nullif(online_id, literal(""))).label("digital_applications"),
            func.count().label("total_applications"),
        )
        .where(
            table.c[contract.case_type_column] == contract.lpa_case_type, window(received, months, dates=True)
        )
        .group_by(bucket)
    )


def read_applications(
    connection: Connection, contract: SiriusContract, months: Sequence[Month]
) -> Answer[TakeUpFigures]:
    """Figures for the months Sirius holds LPA receipts for, checked (`calculation.applications_answer`);
    months with none are absent."""
    rows = connection.execute(applications_query(contract, months))
    return applications_answer(((key, digital, total) for key, digital, total in rows), contiguous(months))
