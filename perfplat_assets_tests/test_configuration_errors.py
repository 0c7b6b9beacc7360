"""Bad configuration and unreachable sources: a message that says what to do, and never a password."""

from datetime import datetime
from threading import Barrier, Thread

import pytest

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.completion_rate.resources.data_api import GoogleAnalytics
from perfplat_assets.digital_take_up.measure import table as digital_take_up_template
from perfplat_assets.digital_take_up.resources import SiriusDatabase
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import service_table
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import read_rating_counts
from perfplat_assets_tests.support.ga4_faults import FaultyGA4Emulator
from perfplat_assets_tests.support.sources import create_sirius
from perfplat_sample.sample_data import SampleSession

MAY = Month.parse("2025-05")
digital_take_up = service_table("make_an_lpa", digital_take_up_template)  # Make an LPA's own copy


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("not a url", "PERFPLAT_MAKE_AN_LPA_DB_URL is not a database URL"),
        ("postgresql://perf:pw@127.0.0.1:notaport/lpa", "PERFPLAT_MAKE_AN_LPA_DB_URL is not a database URL"),
        ("postgresql://perf:S3cret@PW@127.0.0.1/lpa", "percent-encode it as %40"),
        ("mysql://perf:S3cretPW@127.0.0.1/lpa", "names a database driver that is not installed"),
    ],
)
def test_a_bad_url_names_the_setting_and_hides_the_password(url, complaint):
    with pytest.raises(ValueError, match=complaint) as caught:
        MakeAnLpaDatabase(url=url).read(read_rating_counts, [MAY], "feedback")
    assert "S3cret" not in str(caught.value) and "PW@" not in str(caught.value)


def test_a_missing_table_names_the_setting(postgres_url):
    with pytest.raises(SourceUnavailable, match="PERFPLAT_MAKE_AN_LPA_DB_URL") as caught:
        MakeAnLpaDatabase(url=postgres_url).read(read_rating_counts, [MAY], "feedback")
    assert 'relation "feedback" does not exist' in str(caught.value)
    assert "SELECT" not in str(caught.value)


def test_a_misnamed_sirius_column_names_the_setting(tmp_path):
    url = f"sqlite:///{tmp_path / 'sirius.sqlite'}"
    create_sirius(url, [("LPA", MAY.first_day, None)])
    with pytest.raises(SourceUnavailable, match=r"PERFPLAT_SIRIUS_DB_URL.*no such column: cases.lpa_ref"):
        SiriusDatabase(url=url, online_id_column="lpa_ref").applications([MAY])


def test_ga4_quota_used_up_says_so():
    when = datetime(2025, 5, 10, 12, tzinfo=LONDON)
    sessions = [SampleSession("s", when, ("/lpa/type",), None)]
    with FaultyGA4Emulator(lambda month: sessions) as emulator:
        emulator.fail_next(429, times=100)
        ga4 = GoogleAnalytics(
            property_id="1", api_endpoint=emulator.endpoint, retry_initial_delay=0.01, retry_deadline=0.3
        )
        with pytest.raises(SourceUnavailable, match="quota is used up"):
            ga4.completion_report([MAY])
        assert emulator.requests_served > 1, "it retried before giving up"


def test_concurrent_writers_of_one_month_queue_on_postgres(postgres_url):
    store = MetricsStore(url=postgres_url)
    store.engine()
    start = Barrier(4)
    errors: list[BaseException] = []

    def write(value: int) -> None:
        row = {
            "month": MAY.key,
            "digital_applications": value,
            "total_applications": 100,
            "take_up_percent": float(value),
            "source": "sirius",
            "note": "",
            "not_available_reason": None,
        }
        start.wait()
        try:
            for _ in range(5):
                store.write_months(digital_take_up, [MAY.key], [row])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [Thread(target=write, args=(value,)) for value in (10, 20, 30, 40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    stored = store.read(digital_take_up, [MAY.key])
    assert len(stored) == 1 and stored["digital_applications"].iloc[0] in (10, 20, 30, 40)
