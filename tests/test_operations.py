"""Operating the flow: one run at a time, only what changed is redone, and the same flow on a
Dask cluster through prefect-dask."""

import threading

import pytest

from flows.core import progress
from flows.lock import RunInProgress, run_lock

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_harness")]


def run(raw, tmp_path, **options):
    from flows.pipeline import publish_open_data

    validated = []
    progress.listen(lambda step, detail: validated.append(detail) if step == "validated"
                    else None)
    try:
        state = publish_open_data(raw_dir=raw, out_dir=tmp_path / "published",
                                  reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                                  return_state=True, **options)
    finally:
        progress.listen(None)
    return state, state.result(raise_on_failure=False), validated


def test_a_second_run_waits_or_stops_with_a_clear_message(tmp_path, raw_copy):
    with run_lock(tmp_path / "published"):
        with pytest.raises(RunInProgress, match="En annan körning"):
            with run_lock(tmp_path / "published"):
                pass
        state, summary, _ = run(raw_copy, tmp_path)
        assert state.is_failed() and "Another run is publishing" in state.message
        assert not (tmp_path / "published" / "latest").exists()
    released = threading.Event()

    def hold() -> None:
        with run_lock(tmp_path / "published"):
            released.wait(0.5)
    holder = threading.Thread(target=hold)
    holder.start()
    state, summary, _ = run(raw_copy, tmp_path, wait_for_lock=30)  # waits, then publishes
    holder.join()
    assert state.is_completed() and summary.published


def test_only_what_changed_is_redone(tmp_path, raw_copy):
    state, first, validated = run(raw_copy, tmp_path, full=True)  # the cache outlives runs
    files = len(first.files)
    assert state.is_completed() and len(validated) == files

    state, second, validated = run(raw_copy, tmp_path)
    assert state.is_completed() and second.unchanged_since == first.release.version
    assert validated == []  # nothing read, nothing validated, no new release

    target = raw_copy / "2021" / "social" / "personal.csv"
    target.write_text(target.read_text(encoding="utf-8").replace(",8.4,", ",8.3,"),
                      encoding="utf-8")
    state, third, validated = run(raw_copy, tmp_path)
    assert state.is_completed() and third.release.version != first.release.version
    assert validated == ["2021/social/personal.csv"]  # the others came from the cache
    assert sum(f.rows_published for f in third.files) == sum(
        f.rows_published for f in first.files)

    state, fourth, validated = run(raw_copy, tmp_path, full=True)
    assert state.is_completed() and len(validated) == files


def test_the_flow_runs_on_a_local_dask_cluster(tmp_path, raw_copy):
    from prefect_dask import DaskTaskRunner

    from flows.pipeline import publish_open_data

    flow = publish_open_data.with_options(task_runner=DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1}))
    state = flow(raw_dir=raw_copy, out_dir=tmp_path / "published",
                 reports_dir=tmp_path / "reports", state_dir=tmp_path / "state",
                 return_state=True)
    summary = state.result(raise_on_failure=False)
    assert state.is_completed(), state.message
    assert summary.published and summary.rows_rejected == 0
    assert (tmp_path / "published" / "latest" / "datapackage.json").is_file()
