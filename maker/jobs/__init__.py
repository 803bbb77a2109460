"""Batch jobs: the runner (units fanned out over LangGraph graphs, checkpointed per job dir) and
its report."""

from maker.jobs.runner import (
    JOB_VERSION,
    STOP_AFTER_ERRORS,
    JobBusy,
    JobDir,
    JobError,
    default_gate,
    default_job_dir,
    default_units,
    freeze_startup_objects,
    open_checkpointer,
    run_job,
    tasks_digest,
)

__all__ = [
    "JOB_VERSION",
    "STOP_AFTER_ERRORS",
    "JobBusy",
    "JobDir",
    "JobError",
    "default_gate",
    "default_job_dir",
    "default_units",
    "freeze_startup_objects",
    "open_checkpointer",
    "run_job",
    "tasks_digest",
]
