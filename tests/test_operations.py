"""Operating the flow: one run at a time, only what changed is redone, and the same flow on a
Dask cluster through prefect-dask."""

import json
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
        assert state.is_cancelled() and "Another run is publishing" in state.message
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
    # only the dataset that file feeds is made again: the others keep their files (links)
    one, two = first.release.path, third.release.path
    for dataset_id, redone in (("personal", True), ("nyckeltal", False), ("aktiviteter", False),
                               ("agenda2030_oversikt", False)):
        same = [(one / dataset_id / f"{dataset_id}{suffix}").stat().st_ino ==
                (two / dataset_id / f"{dataset_id}{suffix}").stat().st_ino
                for suffix in (".csv", ".json", ".parquet", ".xlsx")]
        assert same == [not redone] * 4, dataset_id
    assert sum(f.rows_published for f in third.files) == sum(
        f.rows_published for f in first.files)

    state, fourth, validated = run(raw_copy, tmp_path, full=True)
    assert state.is_completed() and len(validated) == files


def test_a_large_delivery_is_checked_in_spans_on_dask_workers_as_on_threads(
        tmp_path, raw_copy, monkeypatch):
    """The flow runs on a local Dask cluster (two worker processes, as `opendata run
    --task-runner dask` starts), and a delivery over OPENDATA_SPLIT_MB is checked span by span,
    each span a task: the release is the threads runner's, byte for byte. (This was two tests:
    the flow on a LocalCluster alone started a second cluster for the same path.)"""
    from prefect.client.orchestration import get_client
    from prefect_dask import DaskTaskRunner

    from flows.pipeline import publish_open_data

    from test_spans import national

    folder = raw_copy / "2020" / "kommunledning"
    for other in folder.glob("nyckeltal.*"):
        other.unlink()
    (folder / "nyckeltal.csv").write_text(national(60_000), encoding="utf-8")
    monkeypatch.setenv("OPENDATA_SPLIT_MB", "1")
    releases = {}
    for name, runner in (("threads", None), ("dask", DaskTaskRunner(cluster_kwargs={
            "n_workers": 2, "threads_per_worker": 1, "processes": True}))):
        flow = publish_open_data if runner is None else publish_open_data.with_options(
            task_runner=runner)
        state = flow(raw_dir=raw_copy, out_dir=tmp_path / name / "published",
                     reports_dir=tmp_path / name / "reports", state_dir=tmp_path / name / "state",
                     return_state=True)
        assert state.is_completed(), state.message
        assert state.result().published
        assert (tmp_path / name / "published" / "latest" / "datapackage.json").is_file()
        with get_client(sync_client=True) as client:
            names = {run.name for run in client.read_task_runs() if run.flow_run_id ==
                     state.state_details.flow_run_id}
        assert {n for n in names if n.startswith("validate-2020/kommunledning/nyckeltal.csv-")}
        releases[name] = state.result().release.path
    for csv in sorted(releases["threads"].glob("*/*.csv")):
        assert csv.read_bytes() == (releases["dask"] / csv.relative_to(
            releases["threads"])).read_bytes(), csv.name
    files = [json.loads((tmp_path / n / "reports" / "latest" / "summary.json").read_text(
        "utf-8"))["files"] for n in releases]
    assert files[0] == files[1]
    [big] = [f for f in files[0] if f["path"] == "2020/kommunledning/nyckeltal.csv"]
    assert big["rows_rejected"] and big["rows_read"] == big["rows_published"] + big[
        "rows_rejected"]
