"""``mwaa-cp doctor``: read-only preflight checks of an MWAA environment, one row per check with its fix.

One module per concern: the bucket (:mod:`.storage`), the execution role (:mod:`.access`, with the IAM
evaluator in :mod:`.policy`), the network (:mod:`.network`), logging (:mod:`.logs`), what GetEnvironment
says (:mod:`.configuration`), what Airflow says (:mod:`.imports`) and the control plane's own wiring
(:mod:`.staging`). :func:`run_doctor` runs them all; the daily health flow runs it too.
"""

from mwaa_control_plane.environments.doctor.facts import ControlPlaneWiring
from mwaa_control_plane.environments.doctor.models import Check, DoctorReport
from mwaa_control_plane.environments.doctor.run import DoctorClients, doctor_clients, hibernated_report, run_doctor

__all__ = [
    "Check",
    "ControlPlaneWiring",
    "DoctorClients",
    "DoctorReport",
    "doctor_clients",
    "hibernated_report",
    "run_doctor",
]
