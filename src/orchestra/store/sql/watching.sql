-- What watching suite runs reads: test runs as resources, the changes an event stream sends,
-- the gauges `/metrics` publishes. Only reads.

-- name: list_test_runs
-- A page of a suite run's test runs in id order (the order they were created in: by scenario,
-- then data row), each without its steps. A filter left NULL applies to none; `after` is the
-- keyset cursor (ids above it). Planned for its parameters each time by the repository.
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = :suite_run_id
  AND (CAST(:statuses AS test_run_status[]) IS NULL
       OR r.status = ANY (CAST(:statuses AS test_run_status[])))
  AND (CAST(:after AS bigint) IS NULL OR r.id > CAST(:after AS bigint))
ORDER BY r.id
LIMIT :limit;

-- name: test_run_statuses
-- The status of every test run of a suite run, and the snapshot it was read in (as text): an
-- event stream's first look, which its later looks go on from (`test_run_changes`). A row
-- without an id: the suite run has no test run.
SELECT look.snapshot, r.id, r.status::text AS status
FROM (SELECT CAST(pg_current_snapshot() AS text) AS snapshot) AS look
LEFT JOIN test_run r ON r.suite_run_id = :suite_run_id
ORDER BY r.id;

-- name: test_run_changes
-- The test runs of a suite run whose status changed since the snapshot :since (the last look's
-- `snapshot`): set by a transaction that snapshot did not see (every statement that changes a
-- run's status sets `status_changed` to its own). Each status's runs are walked in
-- test_run_suite_run_idx from :since's xmin only (every transaction below it had ended), so a
-- look reads the runs changed since, not every run. With the snapshot of this read (the next
-- look's :since): a change committing after it is the next look's. A row without an id: none
-- changed.
SELECT look.snapshot, r.id, r.status::text AS status, r.data_row_index, r.error,
       s.name AS scenario, r.started_at, r.finished_at
FROM (SELECT CAST(pg_current_snapshot() AS text) AS snapshot) AS look
LEFT JOIN (test_run r JOIN test_scenario s ON s.id = r.scenario_id)
    ON r.suite_run_id = :suite_run_id
   AND r.status = ANY (enum_range(CAST(NULL AS test_run_status)))
   AND r.status_changed >= pg_snapshot_xmin(CAST(:since AS pg_snapshot))
   AND NOT pg_visible_in_snapshot(r.status_changed, CAST(:since AS pg_snapshot))
ORDER BY r.id;

-- name: gauges^
-- What `/metrics` reads at each scrape, in one statement: the suite runs in progress, their
-- test runs by status (through suite_run_open_idx and test_run_suite_run_idx, not a scan of
-- every run ever), and the runs a worker could claim now (test_run_queued_idx).
SELECT (SELECT count(*) FROM suite_run WHERE status = 'IN_PROGRESS') AS suite_runs_in_progress,
       (SELECT coalesce(jsonb_object_agg(status, n), '{}')
        FROM (SELECT t.status, count(*) AS n
              FROM suite_run s JOIN test_run t ON t.suite_run_id = s.id
              WHERE s.status = 'IN_PROGRESS'
              GROUP BY t.status) AS by_status) AS open_test_runs,
       (SELECT count(*) FROM test_run
        WHERE status = 'QUEUED' AND available_at <= now()) AS claimable;

-- name: outcome_groups
-- A suite run's test runs in groups that colour its diagram alike, each with its first run
-- and its size: the same scenario, status and main steps' outcomes (a PASSED run's are its
-- path's; a run that lost a lease is a group alone: its leases say where it hung).
SELECT min(r.id) AS test_run_id, count(*) AS runs
FROM test_run r
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_array(s.position, s.element_id, s.status) ORDER BY s.position)
           AS steps
    FROM step_result s
    WHERE s.test_run_id = r.id AND s.phase = 'main' AND r.status <> 'PASSED'
) AS recorded ON true
WHERE r.suite_run_id = :suite_run_id
GROUP BY r.scenario_id, r.status, recorded.steps, CASE WHEN r.lost_leases > 0 THEN r.id END
ORDER BY test_run_id;

-- name: failures_first
-- A page of a suite run's test runs as its live page lists them: those that failed (FAILED,
-- ERROR, FAILED_STUCK) first, then in id order, each without its steps.
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = :suite_run_id
ORDER BY r.status IN ('FAILED', 'ERROR', 'FAILED_STUCK') DESC, r.id
LIMIT :limit;

-- name: test_run_state^
-- A test run as its event stream sees it: its status and how many steps it recorded.
SELECT r.suite_run_id, r.status::text AS status,
       (SELECT count(*) FROM step_result s WHERE s.test_run_id = r.id) AS steps
FROM test_run r
WHERE r.id = :id;
