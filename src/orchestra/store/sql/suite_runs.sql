-- Suite runs and their test runs as created, listed, read and cancelled (the API, the CLI,
-- the reports).

-- name: insert_suite_run<!
-- A new suite run, IN_PROGRESS, with its summary and its count of unfinished runs; the
-- workers are woken (when the transaction commits) in the same statement.
WITH inserted AS (
    INSERT INTO suite_run (suite_id, environment_id, data_set_id, summary, unfinished,
                           started_at)
    VALUES (:suite_id, :environment_id, :data_set_id, :summary, :unfinished, now())
    RETURNING *
), woken AS (SELECT pg_notify('orchestra_runs', ''))
SELECT inserted.* FROM inserted CROSS JOIN woken;

-- name: insert_test_runs
-- Every test run of a new suite run in one statement: one row per (scenario, data row index,
-- repeat index) of the arrays, its data row taken from :data_rows (the data set's rows, a
-- JSON array). A run whose :errors entry is not NULL is SKIPPED for its data row, ended now.
INSERT INTO test_run (suite_run_id, scenario_id, data_row_index, repeat_index, data_row,
                      status, max_attempts, queued_at, finished_at, error, skipped_by_data)
SELECT :suite_run_id, r.scenario_id, r.data_row_index, r.repeat_index,
       coalesce(CAST(:data_rows AS jsonb) -> r.data_row_index, '{}'),
       CAST(r.status AS test_run_status), :max_attempts,
       CASE WHEN r.status = 'QUEUED' THEN now() END,
       CASE WHEN r.error IS NOT NULL THEN now() END, r.error, r.error IS NOT NULL
FROM unnest(CAST(:scenario_ids AS bigint[]), CAST(:row_indexes AS integer[]),
            CAST(:repeat_indexes AS integer[]), CAST(:statuses AS text[]),
            CAST(:errors AS text[]))
     AS r(scenario_id, data_row_index, repeat_index, status, error)
RETURNING id, scenario_id, data_row_index, repeat_index,
          (SELECT reltuples::float8 FROM pg_class WHERE oid = 'test_run'::regclass) AS estimate;
-- estimate: the planner's idea of how many rows test_run has (-1: never analyzed)

-- name: insert_dependency*!
-- One `dependsOn` edge between two runs of a new suite run, with the outcome it requires.
INSERT INTO test_run_dependency (test_run_id, depends_on_id, outcome)
VALUES (:test_run_id, :depends_on_id, :outcome);

-- name: get_suite_run^
-- One suite run by id.
SELECT * FROM suite_run WHERE id = :id;

-- name: list_suite_runs
-- A page of suite runs, newest first, each with its test runs counted by status. A filter
-- left NULL applies to none; `before` is the keyset cursor (ids below it). The page is chosen
-- first, by the primary key or suite_run_suite_idx / suite_run_status_idx / suite_run_open_idx,
-- then only its runs are counted. The repository has it planned for its parameters each time.
WITH page AS (
    SELECT * FROM suite_run
    WHERE (CAST(:suite_id AS bigint) IS NULL OR suite_id = CAST(:suite_id AS bigint))
      AND (CAST(:statuses AS suite_run_status[]) IS NULL
           OR status = ANY (CAST(:statuses AS suite_run_status[])))
      AND (CAST(:process AS text) IS NULL OR suite_id IN (
           SELECT s.id FROM scenario_suite s JOIN process p ON p.id = s.process_id
           WHERE p.key = CAST(:process AS text)))
      AND (CAST(:before AS bigint) IS NULL OR id < CAST(:before AS bigint))
    ORDER BY id DESC
    LIMIT :limit
)
SELECT page.*, c.counts
FROM page
CROSS JOIN LATERAL (
    SELECT coalesce(jsonb_object_agg(status, n), '{}') AS counts
    FROM (SELECT status, count(*) AS n FROM test_run
          WHERE suite_run_id = page.id GROUP BY status) AS by_status
) AS c
ORDER BY page.id DESC;

-- name: get_test_runs
-- A suite run's test runs, in id order, with their scenario's name.
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = :suite_run_id
ORDER BY s.position, r.data_row_index NULLS FIRST, r.repeat_index, r.id;

-- name: get_failing_test_runs
-- The test runs a suite run's failure summary lists, in the order of `get_test_runs`: those
-- that failed, errored or were given up on, and those an undo or cleanup action of which did
-- not pass (whatever their status).
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = :suite_run_id
  AND (r.status IN ('FAILED', 'ERROR', 'FAILED_STUCK')
       OR EXISTS (SELECT 1 FROM step_result x
                  WHERE x.test_run_id = r.id AND x.phase = 'cleanup' AND x.status <> 'PASSED'))
ORDER BY s.position, r.data_row_index NULLS FIRST, r.repeat_index, r.id;

-- name: read_one_snapshot
-- The transaction's statements to come all read the database as it stood at the first: a
-- report read in pages reads the same runs in each. The transaction's first statement.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;

-- name: test_runs_by_id
-- Some test runs by id, with their scenario's name.
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.id = ANY(:ids)
ORDER BY r.id;

-- name: report_order
-- A suite run's test runs in its report's order (as `get_test_runs`), each by id and status.
SELECT r.id, r.status::text AS status
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = :suite_run_id
ORDER BY s.position, r.data_row_index NULLS FIRST, r.repeat_index, r.id;

-- name: get_test_run^
-- One test run by id, with its scenario's name.
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.id = :id;

-- name: count_test_runs
-- A suite run's test runs counted by status.
SELECT status, count(*) AS n FROM test_run WHERE suite_run_id = :suite_run_id GROUP BY status;

-- name: get_step_results
-- The recorded steps of some runs, by run: its main steps by position, then its cleanup steps
-- in the order they ran. The columns in the order of StepResult's fields: each row is one.
SELECT id, test_run_id, step_id, position, element_id, branch, attempt, status, started_at,
       duration_ms, request, response, checks, error, command, attempts, resent_after,
       stalled_ms, recorded_at, phase
FROM step_result WHERE test_run_id = ANY(:test_run_ids)
ORDER BY test_run_id, phase = 'cleanup', position;

-- name: get_step_outlines
-- `get_step_results` without what only a detailed step shows: no request, response or command,
-- and checks only of the steps that did not pass (a run's one-line failure names one of them).
SELECT id, test_run_id, step_id, position, element_id, branch, attempt, status, started_at,
       duration_ms, NULL::jsonb AS request, NULL::jsonb AS response,
       CASE WHEN status = 'PASSED' THEN '[]'::jsonb ELSE checks END AS checks, error,
       NULL::jsonb AS command, attempts, resent_after, stalled_ms, recorded_at, phase
FROM step_result WHERE test_run_id = ANY(:test_run_ids)
ORDER BY test_run_id, phase = 'cleanup', position;

-- name: cleanup_failed
-- Whether a cleanup step of one of the suite run's runs did not pass.
SELECT EXISTS (
    SELECT 1 FROM test_run t JOIN step_result r ON r.test_run_id = t.id
    WHERE t.suite_run_id = :suite_run_id AND r.phase = 'cleanup' AND r.status <> 'PASSED'
) AS failed;

-- name: get_lost_leases
-- The leases some runs lost, by run and claim.
SELECT * FROM lost_lease WHERE test_run_id = ANY(:test_run_ids)
ORDER BY test_run_id, attempt;

-- name: get_released_claims
-- The claims of some runs their workers released with a step possibly in flight, by run and
-- claim.
SELECT * FROM released_claim WHERE test_run_id = ANY(:test_run_ids)
ORDER BY test_run_id, attempt;

-- name: cancel_suite_run
-- Cancels a suite run still in progress (none of its runs is left unfinished after it).
UPDATE suite_run SET status = 'CANCELLED', finished_at = now(), unfinished = 0
WHERE id = :id AND status = 'IN_PROGRESS'
RETURNING id;

-- name: cancel_test_runs
-- Cancels a cancelled suite run's unfinished runs; the lease fields stay, so a worker can
-- tell a cancel from a lease another worker took (see `heartbeat`, `run_statuses`). A run
-- that had started (running, or parked at a barrier) and whose scenario has undo or cleanup
-- actions still owes its cleanup (`cleanup_pending`): `claim_runs` hands it out again.
UPDATE test_run t
SET status = 'CANCELLED', status_changed = pg_current_xact_id(), finished_at = now(),
    lock_until = NULL,
    error = 'the suite run was cancelled',
    cleanup_pending = (t.status = 'RUNNING' OR t.attempt > 0) AND EXISTS (
        SELECT 1 FROM test_scenario sc
        WHERE sc.id = t.scenario_id
          AND (sc.cleanup <> '[]' OR EXISTS (
              SELECT 1 FROM scenario_step st WHERE st.scenario_id = sc.id AND st.spec ? 'undo')))
WHERE t.suite_run_id = :suite_run_id AND t.status IN ('PENDING', 'QUEUED', 'RUNNING')
RETURNING t.id, t.cleanup_pending;

-- name: cleanup_pending
-- How many runs of a suite run still owe their cleanup (cancelled or stuck ones).
SELECT count(*) AS n FROM test_run
WHERE suite_run_id = :suite_run_id AND status IN ('CANCELLED', 'FAILED_STUCK')
  AND cleanup_pending;
