"""One cause per analysis: the precedence when several rules fire, borderline and missing data, the healthy case."""

from __future__ import annotations

from typing import Any

from mwaa_control_plane.capacity.diagnosis import PRECEDENCE, diagnose
from tests.unit.capacity.builders import during, environment, scenario


def _stranded_with_a_dead_scheduler(**kwargs: Any) -> dict[str, Any]:
    return {
        "queued": during(60, 120, 5.0),
        "running": during(0, 60, 4.0),
        "heartbeat": lambda m: 24.0 if m < 60 else None,
        "open_slots": 100.0,
    } | kwargs


def test_the_precedence_is_the_documented_one() -> None:
    assert [rule.__name__ for rule in PRECEDENCE] == [
        "required_data",
        "consistency",
        "scheduler_heartbeat",
        "stranded",
        "memory_starvation",
        "cpu_starvation",
        "capacity",
        "concurrency",
        "over_provisioned",
    ]


def test_a_dead_scheduler_comes_before_the_stranded_queue_it_causes() -> None:
    diagnosis = diagnose(scenario(**_stranded_with_a_dead_scheduler()))

    assert diagnosis.cause == "scheduler_unhealthy"
    assert [f.rule for f in diagnosis.findings[:1]] == ["scheduler-heartbeat"]
    stranded = next(f for f in diagnosis.findings if f.rule == "stranded")
    assert stranded.status == "fires"


def test_a_stranded_queue_with_a_healthy_scheduler_is_stranded() -> None:
    diagnosis = diagnose(scenario(**_stranded_with_a_dead_scheduler(heartbeat=24.0)))

    assert diagnosis.cause == "stranded"


def test_memory_starvation_comes_before_cpu_starvation() -> None:
    diagnosis = diagnose(
        scenario(
            env=environment(EnvironmentClass="mw1.medium", MinWorkers=2, MaxWorkers=6),
            queued=during(20, 120, 12.0),
            running=8.0,
            additional=0.0,
            cpu=96.0,
            memory=95.0,
        )
    )

    assert diagnosis.cause == "memory_starvation"
    assert next(f for f in diagnosis.findings if f.rule == "cpu-starvation").status == "fires"


def test_a_borderline_rule_where_it_decides_makes_the_cause_inconclusive() -> None:
    # The slots at MaxWorkers are full in a third of the queued minutes: neither capacity bound nor not.
    diagnosis = diagnose(
        scenario(queued=during(0, 120, 5.0), running=lambda m: 25.0 if m % 3 == 0 else 18.0, cpu=40.0, memory=40.0)
    )

    assert diagnosis.cause == "inconclusive"
    assert diagnosis.decided_by == "capacity"
    assert diagnosis.findings[0].status == "borderline"


def test_contradictory_metrics_make_every_other_finding_moot() -> None:
    diagnosis = diagnose(scenario(queued=during(30, 120, 20.0), running=during(30, 120, 40.0, 5.0), additional=4.0))

    assert diagnosis.cause == "inconclusive"
    assert diagnosis.decided_by == "consistency"


def test_too_little_data_stops_before_any_other_rule() -> None:
    diagnosis = diagnose(scenario(queued=None, running=None, cpu=90.0))

    assert diagnosis.cause == "inconclusive"
    assert [f.rule for f in diagnosis.findings] == ["required-data"]


def test_a_rule_without_its_data_is_passed_over_and_named() -> None:
    # No CPU or memory data, but the pool evidence is direct: concurrency_bound, with the gaps listed.
    diagnosis = diagnose(
        scenario(
            env=environment(EnvironmentClass="mw1.medium"),
            running=6.0,
            additional=0.0,
            pools={"etl": {"PoolOpenSlots": 0.0, "PoolStarvingTasks": 8.0}},
        )
    )

    assert diagnosis.cause == "concurrency_bound"
    assert diagnosis.limit == "pool:etl"
    assert {f.rule for f in diagnosis.findings if f.status == "not_evaluated"} >= {
        "cpu-starvation",
        "memory-starvation",
    }


def test_a_backlog_no_rule_explains_that_is_still_there_is_inconclusive() -> None:
    diagnosis = diagnose(
        scenario(env=environment(EnvironmentClass="mw1.medium"), queued=during(30, 120, 10.0), running=6.0)
    )

    assert diagnosis.cause == "inconclusive"
    assert diagnosis.decided_by == "unexplained-backlog"
    assert "memory-starvation, cpu-starvation, concurrency" in diagnosis.findings[0].message


def test_a_backlog_that_cleared_before_the_end_is_healthy() -> None:
    diagnosis = diagnose(
        scenario(
            env=environment(EnvironmentClass="mw1.medium"),
            queued=during(30, 60, 10.0),
            running=6.0,
            cpu=40.0,
            memory=40.0,
        )
    )

    assert diagnosis.cause == "healthy"
    assert "the backlog cleared" in diagnosis.findings[0].message


def test_no_backlog_and_no_rule_firing_is_healthy() -> None:
    diagnosis = diagnose(scenario(running=3.0, cpu=30.0, memory=40.0, heartbeat=24.0))

    assert diagnosis.cause == "healthy"
    assert diagnosis.limit is None
    assert diagnosis.findings[0].rule == "healthy"
    assert len(diagnosis.findings) == 1 + len(PRECEDENCE)


def test_the_data_used_is_listed() -> None:
    diagnosis = diagnose(scenario(running=3.0, cpu=30.0))

    assert diagnosis.data.minutes == 120
    assert "AWS/MWAA CPUUtilization (Cluster=BaseWorker, Environment=dev) Average/60s" in diagnosis.data.used
    assert diagnosis.data.airflow_block is False
