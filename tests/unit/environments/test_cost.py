"""The off-hours cost model: what an environment costs a month, what scale-down and hibernate save, and Serverless.

Every expected figure is worked out by hand from the list prices in docs/mwaa-facts.md § Prices.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from mwaa_control_plane.environments.cost import (
    EnvironmentCapacity,
    OffHoursSchedule,
    load_prices,
    monthly_cost,
    prices,
    serverless_estimate,
)
from mwaa_control_plane.environments.limits import capacity_of
from mwaa_control_plane.errors import ConfigurationError, InvalidInputError
from tests.unit.aws import environment

D = Decimal
HOURS = D(730)
# The default window, Mon-Fri 20:00-07:00 plus Sat-Sun: 5 weekdays awake 07:00-20:00 (13 h) out of 168 h a
# week, so 168 - 65 = 103 h off, in 5 off periods (four weeknights and Friday evening to Monday morning).
DEFAULT_OFF_HOURS = D(103) * HOURS / D(168)
DEFAULT_CYCLES = D(5) * HOURS / D(168)
# A default dev environment: 1 worker (autoscaling to 10), 2 schedulers, 2 web servers.
DEV_SMALL = EnvironmentCapacity.model_validate(capacity_of(environment()))


def cents(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"))


def test_a_mw1_small_running_all_month_costs_its_base_fee_of_about_358_usd() -> None:
    cost = monthly_cost(DEV_SMALL)

    assert cost.as_configured.base_fee == D("357.70")  # 0.49 x 730
    assert cost.as_configured.total == D("357.70")
    assert cost.with_schedule is None
    assert cost.saving is None


def test_the_shipped_prices_load_with_a_source_and_date_for_every_figure() -> None:
    price_list = prices()

    assert price_list.hours_per_month == HOURS
    assert price_list.classes["mw1.small"].environment.usd == D("0.49")
    assert price_list.classes["mw1.2xlarge"].environment.usd == D("3.96")
    assert price_list.classes["mw1.large"].additional_worker.usd == D("0.22")
    assert price_list.classes["mw1.small"].additional_webserver.note == "unconfirmed: one source says 0.028 USD"
    assert price_list.classes["mw1.xlarge"].additional_worker.usd is None
    assert price_list.serverless_task.estimate
    for klass in price_list.classes.values():
        assert klass.environment.source in price_list.sources
        assert klass.environment.region in {"us-east-1", "us-west-2"}


def test_capacity_beyond_the_base_fee_is_billed_per_additional_worker_scheduler_and_web_server() -> None:
    # Given a mw1.medium with 3 workers always on, 4 schedulers and 3 web servers
    capacity = EnvironmentCapacity(
        environment_class="mw1.medium",
        min_workers=3,
        max_workers=5,
        schedulers=4,
        min_webservers=3,
        max_webservers=3,
        metadata_storage_gb=D(20),
    )

    cost = monthly_cost(capacity).as_configured

    assert cost.base_fee == D("540.20")  # 0.74 x 730
    assert cost.additional_workers == D("160.60")  # 2 x 0.11 x 730
    assert cost.additional_schedulers == D("160.60")  # (4 - 2) x 0.11 x 730
    assert cost.additional_webservers == D("40.15")  # (3 - 2) x 0.055 x 730
    assert cost.metadata_storage == D("2.00")  # 20 GB x 0.10
    assert cost.total == D("903.55")


def test_observed_averages_replace_the_always_on_counts() -> None:
    capacity = EnvironmentCapacity(
        environment_class="mw1.large",
        min_workers=1,
        max_workers=10,
        max_webservers=5,
        average_additional_workers=D("1.5"),
        average_webservers=D("2.5"),
    )

    cost = monthly_cost(capacity).as_configured

    assert cost.additional_workers == D("240.90")  # 1.5 x 0.22 x 730
    assert cost.additional_webservers == D("40.15")  # 0.5 x 0.11 x 730
    assert cost.total == D("722.70") + D("240.90") + D("40.15")


def test_scale_down_of_a_default_dev_environment_saves_nothing_and_says_so() -> None:
    schedule = OffHoursSchedule(mode="scale-down", off_hours_per_month=DEFAULT_OFF_HOURS)

    cost = monthly_cost(DEV_SMALL, schedule)

    assert cost.with_schedule is not None
    assert cost.with_schedule.total == D("357.70")
    assert cost.saving == D("0.00")
    assert cost.saving_percent == D("0.0")
    nothing = [note for note in cost.notes if note.startswith("Scale-down saves nothing")]
    assert nothing, cost.notes
    assert "already includes 1 worker, 2 schedulers and 2 web servers" in nothing[0]
    assert "Hibernate" in nothing[0]


def test_scale_down_stops_the_additional_capacity_for_the_off_hours() -> None:
    # Given a mw1.small with 3 workers and 3 schedulers always on, off 200 hours a month
    capacity = EnvironmentCapacity(environment_class="mw1.small", min_workers=3, max_workers=3, schedulers=3)
    schedule = OffHoursSchedule(mode="scale-down", off_hours_per_month=D(200))

    cost = monthly_cost(capacity, schedule)

    # Awake: 0.49 + 2 x 0.055 + 1 x 0.055 = 0.655 an hour; at the minimum: 0.49 an hour.
    assert cost.as_configured.total == D("478.15")  # 357.70 + 80.30 + 40.15
    assert cost.with_schedule is not None
    assert cost.with_schedule.additional_workers == D("58.30")  # 2 x 0.055 x 530
    assert cost.with_schedule.additional_schedulers == D("29.15")  # 1 x 0.055 x 530
    assert cost.with_schedule.base_fee == D("357.70")
    assert cost.saving == D("33.00")  # 3 x 0.055 x 200
    assert cost.saving_percent == D("6.9")  # 33.00 / 478.15
    assert any(note.startswith("Scale-down saves little (6.9 %)") for note in cost.notes)


def test_a_smaller_night_class_is_the_scale_down_that_lowers_the_base_fee() -> None:
    schedule = OffHoursSchedule(mode="scale-down", off_hours_per_month=DEFAULT_OFF_HOURS, night_class="mw1.micro")

    cost = monthly_cost(DEV_SMALL, schedule)

    on = HOURS - DEFAULT_OFF_HOURS
    expected = cents(D("0.49") * on + D("0.29") * DEFAULT_OFF_HOURS)
    assert cost.with_schedule is not None
    assert cost.with_schedule.base_fee == expected == D("268.19")
    assert cost.saving == D("89.51")  # (0.49 - 0.29) x 447.56
    assert any("the only scale-down that lowers the base fee" in note for note in cost.notes)
    # mw1.small is priced for us-east-1 and mw1.micro for us-west-2: the model says the mix is approximate.
    assert any("different Regions" in note for note in cost.notes)


def test_a_night_class_that_is_not_cheaper_is_refused() -> None:
    schedule = OffHoursSchedule(mode="scale-down", off_hours_per_month=D(100), night_class="mw1.large")

    with pytest.raises(InvalidInputError, match=r"does not cost less than mw1\.small"):
        monthly_cost(DEV_SMALL, schedule)


def test_hibernate_stops_the_base_fee_net_of_the_recreate_time() -> None:
    schedule = OffHoursSchedule(
        mode="hibernate", off_hours_per_month=DEFAULT_OFF_HOURS, cycles_per_month=DEFAULT_CYCLES
    )

    cost = monthly_cost(DEV_SMALL, schedule)

    # Deleted: 447.56 h off - 21.73 cycles x 0.75 h = 431.26 h; billed 730 - 431.26 = 298.74 h.
    billed_hours = HOURS - (DEFAULT_OFF_HOURS - DEFAULT_CYCLES * D("0.75"))
    assert cost.with_schedule is not None
    assert cost.with_schedule.total == cents(D("0.49") * billed_hours) == D("146.38")
    assert cost.saving == D("211.32")
    assert cost.saving_percent == D("59.1")
    assert any("0.75 h" in note and "measured recreate time" in note for note in cost.notes)


def test_hibernate_with_a_measured_recreate_time_bills_that_time() -> None:
    schedule = OffHoursSchedule(
        mode="hibernate", off_hours_per_month=D(300), cycles_per_month=D(20), recreate_hours_per_cycle=D("1.5")
    )

    cost = monthly_cost(DEV_SMALL, schedule)

    assert cost.saving == D("132.30")  # 0.49 x (300 - 20 x 1.5)


def test_hibernating_for_off_periods_shorter_than_the_recreate_time_saves_nothing() -> None:
    schedule = OffHoursSchedule(mode="hibernate", off_hours_per_month=D(10), cycles_per_month=D(20))

    cost = monthly_cost(DEV_SMALL, schedule)

    assert cost.saving == D("0.00")
    assert any("shorter than the recreate time" in note for note in cost.notes)


def test_hibernate_needs_the_number_of_cycles() -> None:
    with pytest.raises(ValidationError, match="cycles_per_month"):
        OffHoursSchedule(mode="hibernate", off_hours_per_month=D(100))


def test_more_off_hours_than_a_month_has_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="more than the 730 hours"):
        monthly_cost(DEV_SMALL, OffHoursSchedule(mode="scale-down", off_hours_per_month=D(731)))


def test_an_unknown_price_is_reported_as_unknown_never_guessed() -> None:
    # Given a mw1.xlarge with two additional workers always on: their price was never collected
    capacity = EnvironmentCapacity(environment_class="mw1.xlarge", min_workers=3, max_workers=3)

    cost = monthly_cost(capacity, OffHoursSchedule(mode="scale-down", off_hours_per_month=D(100)))

    assert cost.as_configured.base_fee == D("1445.40")  # 1.98 x 730
    assert cost.as_configured.additional_workers is None
    assert cost.as_configured.total is None
    assert cost.saving is None
    assert cost.saving_percent is None
    assert cost.unknown_prices == ["additional worker on mw1.xlarge"]
    assert any(note.startswith("The price of an additional worker on mw1.xlarge is unknown") for note in cost.notes)


def test_an_unknown_price_that_is_not_needed_leaves_the_totals_known() -> None:
    capacity = EnvironmentCapacity(environment_class="mw1.2xlarge", max_workers=10)

    cost = monthly_cost(capacity)

    assert cost.as_configured.total == D("2890.80")  # 3.96 x 730
    assert cost.unknown_prices == []


def test_the_serverless_estimate_prices_the_observed_task_hours_and_says_it_is_an_estimate() -> None:
    estimate = serverless_estimate(D(120))

    assert estimate.monthly == D("10.56")  # 120 x 0.088
    assert estimate.label == "estimate"
    assert estimate.region == "us-west-2"
    assert estimate.note.startswith("An estimate")


def test_the_breakdown_carries_the_serverless_estimate_when_task_hours_are_given() -> None:
    cost = monthly_cost(DEV_SMALL, task_hours_per_month=D(40))

    assert cost.serverless is not None
    assert cost.serverless.monthly == D("3.52")  # 40 x 0.088


def _shipped() -> dict[str, object]:
    path = Path(__file__).parents[3] / "layers/common/mwaa_control_plane/environments/data/prices.json"
    data: dict[str, object] = json.loads(path.read_text("utf-8"))
    return data


def test_a_prices_file_with_an_unknown_environment_fee_fails_loudly(tmp_path: Path) -> None:
    data = _shipped()
    classes = data["classes"]
    assert isinstance(classes, dict)
    classes["mw1.small"]["environment"]["usd"] = None
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data), "utf-8")

    with pytest.raises(ConfigurationError, match=r"prices file .*prices\.json is invalid"):
        load_prices(path)


def test_a_prices_file_missing_a_class_fails_loudly(tmp_path: Path) -> None:
    data = _shipped()
    classes = data["classes"]
    assert isinstance(classes, dict)
    del classes["mw1.large"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data), "utf-8")

    with pytest.raises(ConfigurationError, match=r"no prices for mw1\.large"):
        load_prices(path)


def test_a_figure_citing_an_unlisted_source_fails_loudly(tmp_path: Path) -> None:
    data = _shipped()
    classes = data["classes"]
    assert isinstance(classes, dict)
    classes["mw1.small"]["environment"]["source"] = "a-blog-post"
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data), "utf-8")

    with pytest.raises(ConfigurationError, match="sources that are not listed: a-blog-post"):
        load_prices(path)


def test_a_prices_file_that_is_not_json_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{ not json", "utf-8")

    with pytest.raises(ConfigurationError, match="is invalid"):
        load_prices(path)
