-- Suite runs and test runs: creation, the worker's claim / heartbeat / checkpoint / complete,
-- the scheduler's transitions and the reaper. Every write a worker makes to a run it holds is
-- fenced by its lease: `locked_by = :worker AND attempt = :attempt AND status = 'RUNNING'`.
-- Lease times are always computed with the database's clock, never the worker's.

-- name: insert_suite_run<!
INSERT INTO suite_run (suite_id, environment_id, data_set_id, summary, unfinished, started_at)
VALUES (:suite_id, :environment_id, :data_set_id, :summary, :unfinished, now())
RETURNING *;

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
RETURNING id, scenario_id, data_row_index, repeat_index;

-- name: test_run_estimate^
-- The planner's idea of how many rows test_run has (-1: never analyzed).
SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = 'test_run'::regclass;

-- name: insert_dependency*!
INSERT INTO test_run_dependency (test_run_id, depends_on_id, outcome)
VALUES (:test_run_id, :depends_on_id, :outcome);

-- name: get_suite_run^
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
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.suite_run_id = :suite_run_id
ORDER BY s.position, r.data_row_index NULLS FIRST, r.repeat_index, r.id;

-- name: get_test_run^
SELECT r.*, s.name AS scenario_name
FROM test_run r JOIN test_scenario s ON s.id = r.scenario_id
WHERE r.id = :id;

-- name: count_test_runs
SELECT status, count(*) AS n FROM test_run WHERE suite_run_id = :suite_run_id GROUP BY status;

-- name: get_step_results
-- A run's main steps by position, then its cleanup steps in the order they ran.
SELECT * FROM step_result WHERE test_run_id = ANY(:test_run_ids)
ORDER BY test_run_id, phase = 'cleanup', position;

-- name: cleanup_failed
-- Whether a cleanup step of one of the suite run's runs did not pass.
SELECT EXISTS (
    SELECT 1 FROM test_run t JOIN step_result r ON r.test_run_id = t.id
    WHERE t.suite_run_id = :suite_run_id AND r.phase = 'cleanup' AND r.status <> 'PASSED'
) AS failed;

-- name: get_lost_leases
SELECT * FROM lost_lease WHERE test_run_id = ANY(:test_run_ids)
ORDER BY test_run_id, attempt;

-- name: claim_runs
-- QUEUED runs that are available (oldest first), and RUNNING runs whose lease expired with
-- attempts left. Each part walks its own partial index, so a claim costs the same whether the
-- suite run has ten runs done or ten thousand. An expired lease is recorded in `lost_lease` as
-- its row stood when locked (FOR UPDATE reads the newest version): who held it and what it had
-- checkpointed.
WITH queued AS (
    SELECT id FROM test_run
    WHERE status = 'QUEUED' AND available_at <= now()
      AND (CAST(:suite_run_id AS bigint) IS NULL OR suite_run_id = :suite_run_id)
    ORDER BY available_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), expired AS (
    SELECT id, attempt, locked_by, heartbeat_at, lock_until,
           coalesce(execution_context -> 'done', '{}') AS done
    FROM test_run
    WHERE status = 'RUNNING' AND lock_until < now() AND lost_leases + 1 < max_attempts
      AND (CAST(:suite_run_id AS bigint) IS NULL OR suite_run_id = :suite_run_id)
    ORDER BY lock_until
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), cleaning AS (
    -- cancelled runs that had started and still owe their cleanup (never claimed for it,
    -- or their cleanup's lease expired): claimed for that alone, they stay CANCELLED
    SELECT id FROM test_run
    WHERE status = 'CANCELLED' AND cleanup_pending
      AND (lock_until IS NULL OR lock_until < now()) AND lost_leases < max_attempts
      AND (CAST(:suite_run_id AS bigint) IS NULL OR suite_run_id = :suite_run_id)
    ORDER BY lock_until NULLS FIRST
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), candidates AS (
    (SELECT id FROM expired) UNION ALL (SELECT id FROM cleaning) UNION ALL
    (SELECT id FROM queued) LIMIT :limit
), lost AS (
    INSERT INTO lost_lease (test_run_id, attempt, worker, heartbeat_at, expired_at, done)
    SELECT e.id, e.attempt, e.locked_by, e.heartbeat_at, e.lock_until, e.done
    FROM expired e JOIN candidates c ON c.id = e.id
    ON CONFLICT DO NOTHING
)
UPDATE test_run t
SET status = CASE WHEN t.status = 'CANCELLED' THEN t.status ELSE 'RUNNING' END,
    lost_leases = t.lost_leases
                  + (t.status = 'RUNNING' OR t.status = 'CANCELLED' AND t.lock_until IS NOT NULL)::int,
    locked_by = :worker,
    lock_until = now() + make_interval(secs => :lease_seconds),
    heartbeat_at = now(),
    attempt = t.attempt + 1,
    started_at = coalesce(t.started_at, now())
FROM candidates c
WHERE t.id = c.id
RETURNING t.id, t.suite_run_id, t.scenario_id, t.data_row_index, t.repeat_index, t.data_row,
          t.attempt, t.execution_context, t.status = 'CANCELLED' AS cleanup_only,
          -- read now, not cached: exports of runs that finished since must be visible; a
          -- data row's run reads its own row's exports (`rows.<index>`) only: at the top are
          -- the other rows' too, and a value its row never exported must not be another's.
          -- In a suite run that repeats its runs (`summary.repeat`), every run reads its own
          -- row's and repeat's lane likewise (`rows.<index>#<r>`, `rows.#<r>` without a data
          -- set). Without a data set or repeats there is no `rows.<lane>`: a `rows` at the top
          -- is an export.
          (SELECT CASE
                      WHEN s.summary -> 'repeat' IS NOT NULL
                      THEN coalesce(s.context -> 'rows' -> (
                          coalesce(t.data_row_index::text, '') || '#' || t.repeat_index), '{}')
                      WHEN t.data_row_index IS NULL THEN s.context
                      ELSE coalesce(s.context -> 'rows' -> (t.data_row_index::text), '{}')
                  END
           FROM suite_run s WHERE s.id = t.suite_run_id) AS suite_context,
          -- the last lease lost ({attempt, done}): the steps it had in flight are re-sends.
          -- One expiring now is in `expired`: a CTE's insert is invisible to the statement.
          CASE WHEN t.lost_leases > 0 THEN coalesce(
              (SELECT jsonb_build_object('attempt', e.attempt, 'done', e.done)
               FROM expired e WHERE e.id = t.id),
              (SELECT jsonb_build_object('attempt', l.attempt, 'done', l.done)
               FROM lost_lease l WHERE l.test_run_id = t.id ORDER BY l.attempt DESC LIMIT 1))
          END AS lost;

-- name: release_orphans
-- Runs leased to :worker that it does not execute (:ids with their :attempts are those it
-- does, or leaves to their lease): a claim that committed but whose answer never came back
-- (the connection broke), a run whose checkpoint the worker could not write, or whose lease it
-- could not renew, while the database was out of reach. Back to the queue as their last
-- checkpoint left them, at once and without losing an attempt, instead of waiting for their
-- lease to expire (then counted lost, and FAILED_STUCK at the attempt limit). Matched by
-- (id, attempt): a run the worker executes under one attempt and claimed again under a newer
-- one (that claim's answer lost) is leased to it under the newer, which nobody executes.
UPDATE test_run
SET status = 'QUEUED', lock_until = NULL, queued_at = now(), available_at = now()
WHERE locked_by = :worker AND status = 'RUNNING'
  AND (id, attempt) NOT IN (
      SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[])))
RETURNING id;

-- name: next_foreign_expiry^
-- Seconds until the earliest lease another worker holds expires (NULL: none, negative: past),
-- so an idle worker wakes as that run becomes claimable instead of at its next poll. Walks
-- the lease index from its first entry.
SELECT extract(epoch FROM min(lock_until) - now())::float8 AS seconds
FROM test_run
WHERE status = 'RUNNING' AND locked_by <> :worker AND lost_leases + 1 < max_attempts;

-- name: heartbeat
-- Renews every lease the worker holds; the runs not returned are no longer its own. A run
-- cancelled under the lease (its suite run cancelled: the cancel keeps `locked_by` and
-- `attempt`) comes back too, `cancelled` and not renewed, so the worker can tell it from a
-- lease another worker took. Read as of the statement's start: a cancel committing while the
-- renewal waits for the row is seen by neither part, and the run reads as lost.
WITH renewed AS (
    UPDATE test_run
    SET lock_until = now() + make_interval(secs => :lease_seconds), heartbeat_at = now()
    WHERE locked_by = :worker
      AND (status = 'RUNNING'
           OR status = 'CANCELLED' AND cleanup_pending AND lock_until IS NOT NULL)
      AND (id, attempt) IN (
          SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[])))
    RETURNING id
)
SELECT id, false AS cancelled FROM renewed
UNION ALL  -- looks up (by key) only the runs not renewed: usually none
SELECT h.id, true AS cancelled
FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[])) AS h(id, attempt)
WHERE h.id NOT IN (SELECT id FROM renewed)
  AND (SELECT t.status = 'CANCELLED' AND t.locked_by = :worker AND t.attempt = h.attempt
       FROM test_run t WHERE t.id = h.id);

-- name: checkpoint
-- The step's result, the run's new execution context and the step's exports, in one fenced
-- statement: nothing is written unless the worker still holds the lease.
WITH fenced AS (
    UPDATE test_run
    SET execution_context = :execution_context, heartbeat_at = now()
    WHERE id = :test_run_id AND locked_by = :worker AND attempt = :attempt
      AND (status = 'RUNNING'
           OR status = 'CANCELLED' AND cleanup_pending AND lock_until IS NOT NULL)
    RETURNING id, suite_run_id,
              -- the run's lane of the context, as `claim_runs` reads it (NULL: the top)
              (SELECT CASE WHEN s.summary -> 'repeat' IS NOT NULL
                           THEN coalesce(test_run.data_row_index::text, '') || '#'
                                || test_run.repeat_index
                           ELSE test_run.data_row_index::text END
               FROM suite_run s WHERE s.id = test_run.suite_run_id) AS lane
), result AS (
    INSERT INTO step_result (test_run_id, step_id, position, element_id, branch, attempt,
                             status, started_at, duration_ms, request, response, checks, error,
                             attempts, resent_after, phase)
    SELECT id, :step_id, :position, :element_id, :branch, :attempt, :status,
           to_timestamp(:started_at), :duration_ms, :request, :response, :checks, :error,
           :attempts, :resent_after, :phase
    FROM fenced
    -- a step re-executed after its result was stored (a release that raced its commit) keeps
    -- the first result: a step is recorded once
    ON CONFLICT (test_run_id, phase, position) DO NOTHING
    RETURNING test_run_id
), exported AS (
    -- Merged at the top (the last writer wins), and for a run of a data row or of a suite run
    -- that repeats its runs also under `rows.<lane>`: the runs of that row and repeat (the
    -- ones depending on it) read their own lane's values as `suite.*`, and only those (see
    -- `claim_runs`).
    UPDATE suite_run s
    SET context = CASE
        WHEN f.lane IS NULL THEN s.context || :exports
        ELSE s.context || :exports || jsonb_build_object('rows',
            coalesce(s.context -> 'rows', '{}') || jsonb_build_object(
                f.lane, coalesce(s.context -> 'rows' -> f.lane, '{}') || :exports))
    END
    FROM fenced f
    WHERE s.id = f.suite_run_id AND :exports <> '{}'::jsonb
    RETURNING s.id
)
SELECT (SELECT count(*) FROM fenced) AS fenced;

-- name: checkpoint_many
-- The checkpoints and completions of several runs in one statement (a group commit's batch),
-- each row fenced by its own run's lease like `checkpoint`; exports are not taken here (use
-- `checkpoint`). A row with `finish` also ends its run with that status (and `finish_error`)
-- and counts it off its suite run, like `complete_run`; a row without `position` stores no step
-- result. When a run has several rows (parallel branches), the last row's execution context is
-- kept, the last of the lease that holds the run: a row of a lost lease queued after them (by a
-- worker sharing the committer) hides none. A completion applied again (see `applied`) reads as
-- written. Returns the 1-based ordinals of the rows written, with the suite run's `unfinished`
-- count for a finishing row. The rows come as one JSON array:
-- arrays of jsonb parameters would be escaped character by character on the client.
WITH cp AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset(:rows) AS (
        test_run_id bigint, worker text, attempt integer, execution_context jsonb,
        step_id bigint, position integer, element_id text, branch text, status text,
        started_at double precision, duration_ms double precision, request jsonb,
        response jsonb, checks jsonb, error text, attempts integer, finish text,
        finish_error text, resent_after integer, phase text))
        WITH ORDINALITY AS x(
        test_run_id, worker, attempt, execution_context, step_id, position, element_id,
        branch, status, started_at, duration_ms, request, response, checks, error, attempts,
        finish, finish_error, resent_after, phase, n)
), latest AS (
    SELECT DISTINCT ON (test_run_id, worker, attempt) * FROM cp
    ORDER BY test_run_id, worker, attempt, n DESC
), fenced AS (
    UPDATE test_run t
    SET execution_context = l.execution_context, heartbeat_at = now(),
        status = coalesce(CAST(l.finish AS test_run_status), t.status),
        finished_at = CASE WHEN l.finish IS NULL THEN t.finished_at ELSE now() END,
        lock_until = CASE WHEN l.finish IS NULL THEN t.lock_until END,
        error = CASE WHEN l.finish IS NULL THEN t.error ELSE l.finish_error END
    FROM latest l
    WHERE t.id = l.test_run_id AND t.locked_by = l.worker AND t.attempt = l.attempt
      AND (t.status = 'RUNNING'  -- or the cleanup of a cancelled run (which never finishes)
           OR t.status = 'CANCELLED' AND t.cleanup_pending AND t.lock_until IS NOT NULL
              AND l.finish IS NULL)
    RETURNING t.id, t.suite_run_id, l.finish IS NOT NULL AS finished, l.worker, l.attempt
), applied AS (
    -- A completion this lease wrote already: its batch committed but the answer was lost (the
    -- connection broke) and the committer applies the batch again. Written, counted off once.
    SELECT t.id, t.suite_run_id, l.worker, l.attempt
    FROM latest l JOIN test_run t ON t.id = l.test_run_id
    WHERE l.finish IS NOT NULL  -- completions only: a checkpoint's run is not looked up again
      AND t.locked_by = l.worker AND t.attempt = l.attempt
      AND t.status = CAST(l.finish AS test_run_status)
), result AS (
    INSERT INTO step_result (test_run_id, step_id, position, element_id, branch, attempt,
                             status, started_at, duration_ms, request, response, checks, error,
                             attempts, resent_after, phase)
    SELECT c.test_run_id, c.step_id, c.position, c.element_id, c.branch, c.attempt,
           CAST(c.status AS step_status), to_timestamp(c.started_at), c.duration_ms,
           c.request, c.response, coalesce(c.checks, '[]'), c.error,
           coalesce(c.attempts, 1),  -- a row leaves it out for one request
           c.resent_after, coalesce(c.phase, 'main')
    FROM cp c
    JOIN fenced f ON f.id = c.test_run_id AND f.worker = c.worker
                 AND f.attempt = c.attempt  -- every row fenced, not only the run's last one
    WHERE c.position IS NOT NULL
    ON CONFLICT (test_run_id, phase, position) DO NOTHING  -- as in `checkpoint`
    RETURNING test_run_id
), counted AS (
    -- Last, once the results are in (the sub-select makes it wait for them): the suite run's
    -- row stays locked until the commit, and another batch of the same suite run waits for it.
    UPDATE suite_run s SET unfinished = s.unfinished - k.finished
    FROM (SELECT suite_run_id, count(*) AS finished FROM fenced
          WHERE finished AND (SELECT count(*) FROM result) >= 0
          GROUP BY suite_run_id) k
    WHERE s.id = k.suite_run_id
    RETURNING s.id, s.unfinished
)
SELECT c.n, f.suite_run_id, k.unfinished
FROM cp c JOIN fenced f ON f.id = c.test_run_id AND f.worker = c.worker AND f.attempt = c.attempt
LEFT JOIN counted k ON f.finished AND k.id = f.suite_run_id
UNION ALL
SELECT c.n, a.suite_run_id, s.unfinished
FROM cp c JOIN applied a ON a.id = c.test_run_id AND a.worker = c.worker AND a.attempt = c.attempt
JOIN suite_run s ON s.id = a.suite_run_id;

-- name: step_responses
-- The responses of a run's recorded steps by element id (the last recorded wins), for a resumed
-- run's templates (`steps.<id>.response`): its checkpoint keeps each step's status and saved
-- values only, the response being stored here already.
SELECT DISTINCT ON (element_id) element_id, response
FROM step_result
WHERE test_run_id = :test_run_id AND element_id IS NOT NULL AND phase = 'main'
ORDER BY element_id, id DESC;

-- name: complete_run
-- Finishes the run and counts it off its suite run; the caller closes the suite run when the
-- count reaches zero (`close_if_done`, which checks the runs themselves). A run this lease
-- ended so already (its transaction committed, the answer was lost, and it is applied again)
-- comes back too, counted off once.
WITH finished AS (
    UPDATE test_run
    SET status = CAST(:status AS test_run_status), finished_at = now(), lock_until = NULL,
        error = :error, execution_context = :execution_context
    WHERE id = :test_run_id AND locked_by = :worker AND attempt = :attempt
      AND status = 'RUNNING'
    RETURNING id, suite_run_id
), counted AS (
    UPDATE suite_run s SET unfinished = s.unfinished - 1
    FROM finished f
    WHERE s.id = f.suite_run_id
    RETURNING f.id, f.suite_run_id, s.unfinished
)
SELECT * FROM counted
UNION ALL
SELECT t.id, t.suite_run_id, s.unfinished
FROM test_run t JOIN suite_run s ON s.id = t.suite_run_id
WHERE t.id = :test_run_id AND t.locked_by = :worker AND t.attempt = :attempt
  AND t.status = CAST(:status AS test_run_status);

-- name: release_run
-- Back to the queue (graceful shutdown, or parked at a barrier until :available_at), with
-- :execution_context, or as its last checkpoint left it (NULL: a run a drain stopped mid-step,
-- whose last checkpoint may have committed after the worker stopped waiting for it). A run
-- parking at a barrier that its last party released meanwhile is available at once: the
-- release only wakes runs already parked. The barriers it passed before were released too, so
-- it is woken only when none it arrived at is still waiting (else it would spin until then).
-- Those barriers are read locked (FOR SHARE): a last arrival committing meanwhile is waited for
-- and seen, and one coming meanwhile waits for this release, then finds the run parked and
-- wakes it. Unlocked, each saw the other as of before (read committed) and the run stayed
-- parked until the barrier's timeout though every party had arrived.
WITH arrived AS (
    SELECT b.released_at IS NOT NULL AS released
    FROM suite_barrier b
    WHERE b.suite_run_id = (SELECT suite_run_id FROM test_run WHERE id = :test_run_id)
      AND CAST(:test_run_id AS bigint) = ANY(b.arrived)
    FOR SHARE
), passed AS (
    SELECT coalesce(bool_and(released), false) AS every FROM arrived
)
UPDATE test_run t
SET status = 'QUEUED', lock_until = NULL, queued_at = now(),
    execution_context = coalesce(:execution_context, t.execution_context),
    available_at = CASE
        WHEN (SELECT every FROM passed) THEN now()
        ELSE coalesce(to_timestamp(:available_at), now())
    END
WHERE id = :test_run_id AND locked_by = :worker AND attempt = :attempt AND status = 'RUNNING'
RETURNING id;

-- name: promote_ready
-- PENDING runs of a suite run whose every dependency ended with its required outcome.
UPDATE test_run t SET status = 'QUEUED', queued_at = now(), available_at = now()
WHERE t.suite_run_id = :suite_run_id AND t.status = 'PENDING'
  AND NOT EXISTS (
      SELECT 1 FROM test_run_dependency d JOIN test_run u ON u.id = d.depends_on_id
      WHERE d.test_run_id = t.id AND u.status <> d.outcome
  )
RETURNING t.id;

-- name: skip_unreachable
-- PENDING runs one of whose dependencies ended with another outcome than the one required,
-- counted off their suite run. Walks the suite run's PENDING runs and their dependencies only
-- (not every run that ended), and when none is skipped the suite run's row is neither written
-- nor locked: a completion of that suite run, which updates it, need not wait for the caller.
WITH blocker AS (
    SELECT DISTINCT ON (d.test_run_id) d.test_run_id,
           format('dependency %%s (test run %%s) ended %%s, %%s was required',
                  s.name, u.id, u.status, d.outcome)
           || CASE WHEN u.skipped_by_data THEN ' (' || u.error || ')' ELSE '' END AS reason,
           u.skipped_by_data
    FROM test_run t
    JOIN test_run_dependency d ON d.test_run_id = t.id
    JOIN test_run u ON u.id = d.depends_on_id
    JOIN test_scenario s ON s.id = u.scenario_id
    WHERE t.suite_run_id = :suite_run_id AND t.status = 'PENDING'
      AND u.status IN ('PASSED', 'FAILED', 'ERROR', 'SKIPPED', 'CANCELLED', 'FAILED_STUCK')
      AND u.status <> d.outcome
    ORDER BY d.test_run_id, u.id
), skipped AS (
    UPDATE test_run t
    SET status = 'SKIPPED', finished_at = now(), error = blocker.reason,
        skipped_by_data = blocker.skipped_by_data
    FROM blocker
    WHERE t.id = blocker.test_run_id AND t.status = 'PENDING'
    RETURNING t.id
), counted AS (
    UPDATE suite_run SET unfinished = unfinished - (SELECT count(*) FROM skipped)
    WHERE id = :suite_run_id AND EXISTS (SELECT 1 FROM skipped)
)
SELECT count(*) AS skipped FROM skipped;

-- name: close_if_done
-- Ends a suite run whose runs are all terminal: PASSED when every run passed, or was skipped
-- because its data row contradicts its path (or waited on one that was).
UPDATE suite_run s
SET status = CASE WHEN NOT EXISTS (
                      SELECT 1 FROM test_run r
                      WHERE r.suite_run_id = s.id AND r.status <> 'PASSED'
                        AND NOT r.skipped_by_data
                  ) THEN 'PASSED'::suite_run_status ELSE 'FAILED'::suite_run_status END,
    finished_at = now()
WHERE s.id = :suite_run_id AND s.status = 'IN_PROGRESS'
  AND NOT EXISTS (
      SELECT 1 FROM test_run r
      WHERE r.suite_run_id = s.id AND r.status IN ('PENDING', 'QUEUED', 'RUNNING')
  )
RETURNING s.id, s.status;

-- name: suite_runs_to_sweep
-- The suite runs in progress whose state changed since the sweeper last looked, with what the
-- sweep has to do for each. :known_ids are the suite runs it looked at, :known_unfinished their
-- `unfinished` counts then. Every end of a run counts it off its suite run in the same
-- transaction, and only an end can make a PENDING run ready (every dependency ended as required)
-- or unreachable (one ended otherwise) or leave no run unfinished: a suite run whose count is
-- as known has nothing new to do, and its runs are not read. So a pass reads the open suite
-- runs' rows (no run of theirs) and the runs of the changed ones only. `action`: `close` when
-- none of its runs is left unfinished, `schedule` when a PENDING run can be queued or skipped,
-- `idle` for nothing (it changed though: its barriers are to be looked at), and `gone` for a
-- known one no longer in progress. Only reads: no suite run's row is written or locked.
WITH known AS (
    SELECT * FROM unnest(CAST(:known_ids AS bigint[]), CAST(:known_unfinished AS integer[]))
        AS k(id, unfinished)
), open AS (
    SELECT id, unfinished FROM suite_run WHERE status = 'IN_PROGRESS'
), changed AS (
    SELECT coalesce(o.id, k.id) AS id, o.unfinished, o.id IS NULL AS gone
    FROM open o FULL JOIN known k ON k.id = o.id
    WHERE o.unfinished IS DISTINCT FROM k.unfinished
)
SELECT c.id, c.unfinished,
       CASE WHEN c.gone THEN 'gone'
            WHEN NOT EXISTS (
                SELECT 1 FROM test_run r
                WHERE r.suite_run_id = c.id AND r.status IN ('PENDING', 'QUEUED', 'RUNNING'))
            THEN 'close'
            WHEN EXISTS (
                SELECT 1 FROM test_run t
                WHERE t.suite_run_id = c.id AND t.status = 'PENDING'
                  AND (NOT EXISTS (  -- ready
                           SELECT 1 FROM test_run_dependency d
                           JOIN test_run u ON u.id = d.depends_on_id
                           WHERE d.test_run_id = t.id AND u.status <> d.outcome)
                       OR EXISTS (  -- unreachable
                           SELECT 1 FROM test_run_dependency d
                           JOIN test_run u ON u.id = d.depends_on_id
                           WHERE d.test_run_id = t.id AND u.status <> d.outcome
                             AND u.status NOT IN ('PENDING', 'QUEUED', 'RUNNING'))))
            THEN 'schedule'
            ELSE 'idle'
       END AS action
FROM changed c
ORDER BY c.id;

-- name: reap_stuck
-- Runs whose lease expired and that have no attempt left: FAILED_STUCK, with the reason; the
-- last lost lease is recorded like the claim records the others.
WITH stuck AS (
    SELECT id, attempt, locked_by, heartbeat_at, lock_until,
           coalesce(execution_context -> 'done', '{}') AS done
    FROM test_run
    WHERE status = 'RUNNING' AND lock_until < now() AND lost_leases + 1 >= max_attempts
    FOR UPDATE SKIP LOCKED
), reaped AS (
UPDATE test_run t
SET status = 'FAILED_STUCK', finished_at = now(), lock_until = NULL,
    lost_leases = t.lost_leases + 1,
    error = format('lease lost %%s times (last held by %%s, heartbeat at %%s); attempt limit %%s',
                   t.lost_leases + 1, t.locked_by, t.heartbeat_at, t.max_attempts)
FROM stuck
WHERE t.id = stuck.id
RETURNING t.id, t.suite_run_id
), lost AS (
    INSERT INTO lost_lease (test_run_id, attempt, worker, heartbeat_at, expired_at, done)
    SELECT id, attempt, locked_by, heartbeat_at, lock_until, done FROM stuck
    ON CONFLICT DO NOTHING
), counted AS (
    UPDATE suite_run s SET unfinished = s.unfinished - c.n
    FROM (SELECT suite_run_id, count(*) AS n FROM reaped GROUP BY suite_run_id) c
    WHERE s.id = c.suite_run_id
)
SELECT id, suite_run_id FROM reaped;

-- name: cancel_suite_run
UPDATE suite_run SET status = 'CANCELLED', finished_at = now(), unfinished = 0
WHERE id = :id AND status = 'IN_PROGRESS'
RETURNING id;

-- name: cancel_test_runs
-- A run that had started (running, or parked at a barrier) and whose scenario has undo or
-- cleanup actions still owes its cleanup (`cleanup_pending`): `claim_runs` hands it out again.
UPDATE test_run t
SET status = 'CANCELLED', finished_at = now(), lock_until = NULL,
    error = 'the suite run was cancelled',
    cleanup_pending = (t.status = 'RUNNING' OR t.attempt > 0) AND EXISTS (
        SELECT 1 FROM test_scenario sc
        WHERE sc.id = t.scenario_id
          AND (sc.cleanup <> '[]' OR EXISTS (
              SELECT 1 FROM scenario_step st WHERE st.scenario_id = sc.id AND st.spec ? 'undo')))
WHERE t.suite_run_id = :suite_run_id AND t.status IN ('PENDING', 'QUEUED', 'RUNNING')
RETURNING t.id, t.cleanup_pending;

-- name: finish_cleanup
-- The cleanup of a cancelled run is done: nothing is owed any more, the lease ends.
UPDATE test_run
SET cleanup_pending = false, lock_until = NULL, execution_context = :execution_context
WHERE id = :test_run_id AND locked_by = :worker AND attempt = :attempt
  AND status = 'CANCELLED' AND cleanup_pending AND lock_until IS NOT NULL
RETURNING id;

-- name: cleanup_pending
-- How many runs of a suite run still owe their cleanup.
SELECT count(*) AS n FROM test_run
WHERE suite_run_id = :suite_run_id AND status = 'CANCELLED' AND cleanup_pending;

-- name: run_statuses
-- The current status of some runs, for a worker to tell a lease refused on a write because
-- the run was cancelled from one another worker took.
SELECT id, status, attempt, locked_by FROM test_run WHERE id = ANY(:ids);

-- name: arrive_at_barrier
-- Registers a run at a barrier shared by several runs of a suite run (idempotent), fenced by
-- the run's lease: a run cancelled, claimed again or deleted with its suite run (a prune)
-- arrives nowhere, and no row comes back. The suite run's row is locked first (KEY SHARE, as the
-- barrier's foreign key would lock it), then the run's: the order a prune's delete takes them
-- in, so an arrival and a prune wait for each other instead of deadlocking, and an arrival
-- that waited for a prune finds its run gone rather than failing on the foreign key.
WITH fenced AS (
    SELECT s.id AS suite_run_id
    FROM suite_run s JOIN test_run t ON t.suite_run_id = s.id
    WHERE t.id = :test_run_id AND t.locked_by = :worker AND t.attempt = :attempt
      AND t.status = 'RUNNING' AND s.id = :suite_run_id
    FOR KEY SHARE OF s FOR SHARE OF t
)
INSERT INTO suite_barrier (suite_run_id, name, parties, arrived, timeout_at)
SELECT suite_run_id, :name, :parties, ARRAY[:test_run_id]::bigint[],
       now() + make_interval(secs => :timeout_seconds)
FROM fenced
ON CONFLICT (suite_run_id, name) DO UPDATE
SET arrived = CASE WHEN :test_run_id = ANY(suite_barrier.arrived) THEN suite_barrier.arrived
                   ELSE suite_barrier.arrived || :test_run_id::bigint END
RETURNING parties, cardinality(arrived) AS arrived, released_at IS NOT NULL AS released,
          extract(epoch FROM timeout_at) AS timeout_at, timeout_at < now() AS timed_out;

-- name: barrier_outlook^
-- Who else could still arrive at a shared barrier: the runs of the suite run whose scenario has
-- it on its main line (a data row's barrier, `name@row<i>`, counts that row's runs only, and
-- a repeat's, `name[@row<i>]@rep<r>`, that repeat's) and
-- that have not arrived. `doomed`: it can no longer be met, as one of them ended without
-- arriving (`ended` names them) and too few may still come.
WITH barrier AS (
    SELECT b.suite_run_id, b.arrived, b.parties,
           split_part(split_part(b.name, '@rep', 1), '@row', 1) AS base,
           CAST(nullif(split_part(split_part(b.name, '@rep', 1), '@row', 2), '') AS integer)
               AS row_index,
           coalesce(CAST(nullif(split_part(b.name, '@rep', 2), '') AS integer), 0) AS repeat
    FROM suite_barrier b
    WHERE b.suite_run_id = :suite_run_id AND b.name = :name
), parties AS (
    SELECT r.id, r.status, sc.name AS scenario
    FROM barrier b
    JOIN suite_run s ON s.id = b.suite_run_id
    JOIN test_scenario sc ON sc.suite_id = s.suite_id
    CROSS JOIN LATERAL (  -- a row's runs through the unique index, not every run of the scenario
        SELECT t.id, t.status FROM test_run t
        WHERE t.suite_run_id = b.suite_run_id AND t.scenario_id = sc.id
          AND t.data_row_index = b.row_index AND t.repeat_index = b.repeat
        UNION ALL
        SELECT t.id, t.status FROM test_run t
        WHERE b.row_index IS NULL AND t.suite_run_id = b.suite_run_id AND t.scenario_id = sc.id
          AND t.repeat_index = b.repeat
    ) r
    WHERE NOT r.id = ANY(b.arrived)
      AND EXISTS (
          SELECT 1 FROM scenario_step st
          WHERE st.scenario_id = sc.id AND st.kind = 'BARRIER' AND st.branch = ''
            AND coalesce(st.spec ->> 'name', st.element_id) = b.base
      )
)
SELECT coalesce(bool_or(p.status NOT IN ('PENDING', 'QUEUED', 'RUNNING')), false)
       AND cardinality(b.arrived)
           + count(*) FILTER (WHERE p.status IN ('PENDING', 'QUEUED', 'RUNNING')) < b.parties
           AS doomed,
       coalesce(array_agg(format('%%s (test run %%s) ended %%s', p.scenario, p.id, p.status)
                          ORDER BY p.id)
                FILTER (WHERE p.status NOT IN ('PENDING', 'QUEUED', 'RUNNING')),
                '{}') AS ended
FROM barrier b LEFT JOIN parties p ON true
GROUP BY b.arrived, b.parties;

-- name: wake_doomed_barriers^
-- Wakes the runs parked at every barrier of the suite runs :suite_run_ids that can no longer be
-- met (as `barrier_outlook` says of one: a party ended without arriving and too few may still
-- come), in one statement whatever the number of barriers: those of suite runs in progress,
-- neither met nor timed out. Only a party that ended can doom a barrier, so the parties of a
-- barrier are looked up only when a run of its data row (of its suite run, for a barrier of
-- the whole suite run) ended: a suite run with thousands of barriers waiting costs a scan of
-- them and of its ended runs, not several index probes for each. Each barrier looked at finds
-- its own suite run and parties by key (sub-selects, whatever the planner's statistics say): a
-- data row's barrier (`name@row<i>`, of repeat r > 0 `name[@row<i>]@rep<r>`) its row's runs
-- of its repeat through the unique index, a barrier of
-- the whole suite run the runs of its scenarios. The runs parked at the doomed ones are then
-- woken by id. Says how many woke, the suite runs with a doomed barrier that a party arrived
-- at but is not parked at yet (still RUNNING: it parks after this statement, and is to be
-- woken by a later one), and the statement's snapshot (`xmin`: every transaction below it had
-- ended; `xmax`: every one in progress is below it), for the sweeper to know when an arrival
-- it could not see has ended.
WITH waiting AS (
    SELECT b.suite_run_id, b.arrived, b.parties,
           split_part(split_part(b.name, '@rep', 1), '@row', 1) AS base,
           CAST(nullif(split_part(split_part(b.name, '@rep', 1), '@row', 2), '') AS integer)
               AS row_index,
           coalesce(CAST(nullif(split_part(b.name, '@rep', 2), '') AS integer), 0) AS repeat
    FROM suite_barrier b
    WHERE b.suite_run_id = ANY(CAST(:suite_run_ids AS bigint[]))
      AND b.released_at IS NULL AND b.timeout_at > now()
), ended AS (
    SELECT DISTINCT r.suite_run_id, r.data_row_index, r.repeat_index
    FROM test_run r
    WHERE r.suite_run_id = ANY(ARRAY(SELECT DISTINCT suite_run_id FROM waiting))
      AND r.status IN ('PASSED', 'FAILED', 'ERROR', 'SKIPPED', 'CANCELLED', 'FAILED_STUCK')
), barrier AS (
    SELECT w.*,
           (SELECT s.suite_id FROM suite_run s
            WHERE s.id = w.suite_run_id AND s.status = 'IN_PROGRESS') AS suite_id
    FROM waiting w
    WHERE (w.row_index IS NOT NULL
           AND (w.suite_run_id, w.row_index, w.repeat)
               IN (SELECT suite_run_id, data_row_index, repeat_index FROM ended))
       OR (w.row_index IS NULL
           AND (w.suite_run_id, w.repeat) IN (SELECT suite_run_id, repeat_index FROM ended))
), doomed AS (
    SELECT b.suite_run_id, b.arrived
    FROM barrier b
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE p.status IN ('PENDING', 'QUEUED', 'RUNNING')) AS live,
               count(*) FILTER (WHERE p.status NOT IN ('PENDING', 'QUEUED', 'RUNNING')) AS ended
        FROM test_scenario sc
        CROSS JOIN LATERAL (
            SELECT r.id, r.status FROM test_run r
            WHERE r.suite_run_id = b.suite_run_id AND r.scenario_id = sc.id
              AND r.data_row_index = b.row_index AND r.repeat_index = b.repeat
            UNION ALL
            SELECT r.id, r.status FROM test_run r
            WHERE b.row_index IS NULL AND r.suite_run_id = b.suite_run_id
              AND r.scenario_id = sc.id AND r.repeat_index = b.repeat
        ) p
        WHERE sc.suite_id = b.suite_id AND NOT p.id = ANY(b.arrived)
          AND EXISTS (
              SELECT 1 FROM scenario_step st
              WHERE st.scenario_id = sc.id AND st.kind = 'BARRIER' AND st.branch = ''
                AND coalesce(st.spec ->> 'name', st.element_id) = b.base
          )
    ) parties
    WHERE b.suite_id IS NOT NULL  -- its suite run is in progress
      AND parties.ended > 0 AND cardinality(b.arrived) + parties.live < b.parties
), woken AS (
    UPDATE test_run t SET available_at = now()
    WHERE t.id = ANY (ARRAY(SELECT unnest(arrived) FROM doomed))
      AND t.status = 'QUEUED' AND t.available_at > now()
    RETURNING t.id
)
SELECT (SELECT count(*) FROM woken) AS woken,
       ARRAY(SELECT DISTINCT d.suite_run_id FROM doomed d
             WHERE EXISTS (SELECT 1 FROM test_run r
                           WHERE r.id = ANY(d.arrived) AND r.status = 'RUNNING')) AS arriving,
       CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint) AS xmin,
       CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) AS xmax;

-- name: release_barrier
-- The last party arrived: wake every run parked on the barrier.
WITH barrier AS (
    UPDATE suite_barrier SET released_at = coalesce(released_at, now())
    WHERE suite_run_id = :suite_run_id AND name = :name
    RETURNING arrived
)
UPDATE test_run t SET available_at = now()
FROM barrier b
WHERE t.id = ANY(b.arrived) AND t.status = 'QUEUED';

-- name: prunable_suite_runs
-- Ended suite runs matching every filter given, oldest first, with what deleting them removes:
-- of suite :suite_id; finished more than :older_than seconds ago by the server's clock; not
-- among the :keep_last newest ended runs of their suite; among :ids. A NULL filter is not used.
WITH ended AS (
    SELECT id, suite_id, status, finished_at,
           row_number() OVER (PARTITION BY suite_id ORDER BY id DESC) AS newer
    FROM suite_run
    WHERE status <> 'IN_PROGRESS'
      AND (CAST(:suite_id AS bigint) IS NULL OR suite_id = :suite_id)
)
SELECT e.id, e.suite_id, e.status::text AS status, e.finished_at,
       (SELECT count(*) FROM test_run t WHERE t.suite_run_id = e.id) AS test_runs,
       (SELECT count(*) FROM step_result r JOIN test_run t ON t.id = r.test_run_id
        WHERE t.suite_run_id = e.id) AS step_results
FROM ended e
WHERE (CAST(:older_than AS float8) IS NULL
       OR e.finished_at < now() - make_interval(secs => :older_than))
  AND (CAST(:keep_last AS bigint) IS NULL OR e.newer > CAST(:keep_last AS bigint))
  AND (CAST(:ids AS bigint[]) IS NULL OR e.id = ANY(:ids))
ORDER BY e.id;

-- name: delete_suite_runs
-- Deletes ended suite runs with everything of theirs (test runs, step results, lost leases,
-- barriers: ON DELETE CASCADE); one still in progress is kept.
DELETE FROM suite_run WHERE id = ANY(:ids) AND status <> 'IN_PROGRESS' RETURNING id;
