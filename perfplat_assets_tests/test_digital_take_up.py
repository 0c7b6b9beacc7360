"""Take-up from a Sirius table on real Postgres, and from the product team's figures file."""

from datetime import date

import pytest
from sqlalchemy import create_engine, text

from perfplat_assets.common.months import Month, months_between
from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile
from perfplat_assets.digital_take_up.take_up import FiguresFileError, TakeUpFigures, digital_take_up

CASES = [
    # (kind, received, Make an LPA reference)
    ("LPA", date(2025, 6, 1), "A0000000001"),
    ("LPA", date(2025, 6, 30), "A0000000002"),
    ("LPA", date(2025, 6, 30), None),
    ("LPA", date(2025, 6, 15), ""),  # an empty reference is no reference
    ("EPA", date(2025, 6, 10), "A0000000003"),  # not an LPA
    ("LPA", date(2025, 7, 1), "A0000000004"),
    ("LPA", date(2025, 7, 2), None),
    ("LPA", date(2025, 7, 3), None),
    ("LPA", date(2025, 5, 31), "A0000000005"),  # before the window
]


def _sirius_on_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # Private schema: names differ from the default contract, as they may in production.
        connection.execute(
            text("CREATE TABLE lpa_cases (id serial PRIMARY KEY, kind text, received_on date, moj_ref text)")
        )
        connection.execute(
            text("INSERT INTO lpa_cases (kind, received_on, moj_ref) VALUES (:kind, :received, :ref)"),
            [{"kind": k, "received": d, "ref": r} for k, d, r in CASES],
        )
    engine.dispose()


def test_sirius_on_postgres_with_configured_names(postgres_url):
    _sirius_on_postgres(postgres_url)
    sirius = SiriusDatabase(
        url=postgres_url,
        cases_table="lpa_cases",
        case_type_column="kind",
        receipt_date_column="received_on",
        online_id_column="moj_ref",
    )
    months = months_between(Month.parse("2025-06"), Month.parse("2025-08"))
    figures = sirius.applications(months)
    assert figures == {
        Month.parse("2025-06"): TakeUpFigures(digital_applications=2, total_applications=4),
        Month.parse("2025-07"): TakeUpFigures(digital_applications=1, total_applications=3),
    }
    assert (
        digital_take_up(Month.parse("2025-06"), figures[Month.parse("2025-06")], "sirius").take_up_percent
        == 50.0
    )
    # 1 in 3 is 33.33...: one decimal place.
    assert (
        digital_take_up(Month.parse("2025-07"), figures[Month.parse("2025-07")], "sirius").take_up_percent
        == 33.3
    )
    august = digital_take_up(Month.parse("2025-08"), figures.get(Month.parse("2025-08")), "sirius")
    assert august.take_up_percent is None and "no figures for 2025-08" in (august.not_available_reason or "")


def test_an_unreachable_sirius_names_the_setting_not_the_password():
    sirius = SiriusDatabase(url="postgresql://perfplat:s3cret-pw@127.0.0.1:1/sirius")
    with pytest.raises(Exception, match="PERFPLAT_SIRIUS_DB_URL") as caught:
        sirius.applications([Month.parse("2025-06")])
    assert "s3cret-pw" not in str(caught.value)


def test_figures_file(tmp_path):
    path = tmp_path / "take-up.csv"
    path.write_text(
        "month,digital_applications,total_applications,note\n"
        "2025-05,20616,49812,\n"
        '2025-06,21000,50000,"revised 2025-08, after late paper receipts"\n',
        encoding="utf-8",
    )
    figures = TakeUpFiguresFile(path=str(path)).figures()
    may = digital_take_up(Month.parse("2025-05"), figures[Month.parse("2025-05")], "figures-file")
    assert (may.digital_applications, may.total_applications, may.take_up_percent) == (20616, 49812, 41.4)
    assert figures[Month.parse("2025-06")].note == "revised 2025-08, after late paper receipts"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("month,digital_applications\n2025-05,1\n", "missing total_applications"),
        (
            "month,digital_applications,total_applications,note\nMay 2025,1,2,\n",
            "line 2: month must be YYYY-MM",
        ),
        ("month,digital_applications,total_applications,note\n2025-05,1,lots,\n", "must be a whole number"),
        ("month,digital_applications,total_applications,note\n2025-05,-1,2,\n", "must not be negative"),
        (
            "month,digital_applications,total_applications,note\n2025-05,1,2,\n2025-05,1,3,\n",
            "line 3: 2025-05 appears twice",
        ),
    ],
)
def test_a_bad_figures_file_says_where_and_what(tmp_path, content, complaint):
    path = tmp_path / "take-up.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FiguresFileError, match=complaint):
        TakeUpFiguresFile(path=str(path)).figures()


def test_a_missing_figures_file_says_what_to_do(tmp_path):
    with pytest.raises(FiguresFileError, match="PERFPLAT_TAKEUP_FIGURES_FILE must name"):
        TakeUpFiguresFile(path=str(tmp_path / "absent.csv")).figures()


def test_no_applications_is_not_available_rather_than_zero():
    result = digital_take_up(Month.parse("2025-05"), TakeUpFigures(0, 0), "figures-file")
    assert result.take_up_percent is None
    assert "no LPA applications" in (result.not_available_reason or "")
