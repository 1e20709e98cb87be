-- What a worker records as it executes a run: each step's checkpoint, and the run's end. Each
-- write is fenced by the run's lease (see claims.sql).

-- name: checkpoint
-- The step's result, the run's new execution context and the step's exports, in one fenced
-- statement: nothing is written unless the worker still holds the lease.
WITH fenced AS (
    UPDATE test_run
    SET execution_context = :execution_context, heartbeat_at = now()
    WHERE id = :test_run_id AND locked_by = :worker AND attempt = :attempt
      AND (status = 'RUNNING' OR status IN ('CANCELLED', 'FAILED_STUCK')
                                 AND cleanup_pending AND lock_until IS NOT NULL)
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
                             attempts, resent_after, stalled_ms, phase, command)
    SELECT id, :step_id, :position, :element_id, :branch, :attempt, :status,
           to_timestamp(:started_at), :duration_ms, :request, :response, :checks, :error,
           :attempts, :resent_after, :stalled_ms, :phase, :command
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
        finish_error text, resent_after integer, stalled_ms double precision, phase text,
        command jsonb))
        WITH ORDINALITY AS x(
        test_run_id, worker, attempt, execution_context, step_id, position, element_id,
        branch, status, started_at, duration_ms, request, response, checks, error, attempts,
        finish, finish_error, resent_after, stalled_ms, phase, command, n)
), latest AS (
    SELECT DISTINCT ON (test_run_id, worker, attempt) * FROM cp
    ORDER BY test_run_id, worker, attempt, n DESC
), fenced AS (
    UPDATE test_run t
    SET execution_context = l.execution_context, heartbeat_at = now(),
        status = coalesce(CAST(l.finish AS test_run_status), t.status),
        status_changed = CASE WHEN l.finish IS NULL THEN t.status_changed
                              ELSE pg_current_xact_id() END,
        finished_at = CASE WHEN l.finish IS NULL THEN t.finished_at ELSE now() END,
        lock_until = CASE WHEN l.finish IS NULL THEN t.lock_until END,
        error = CASE WHEN l.finish IS NULL THEN t.error ELSE l.finish_error END
    FROM latest l
    WHERE t.id = l.test_run_id AND t.locked_by = l.worker AND t.attempt = l.attempt
      AND (t.status = 'RUNNING'  -- or the cleanup of an ended run (which never finishes)
           OR t.status IN ('CANCELLED', 'FAILED_STUCK') AND t.cleanup_pending
              AND t.lock_until IS NOT NULL AND l.finish IS NULL)
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
                             attempts, resent_after, stalled_ms, phase, command)
    SELECT c.test_run_id, c.step_id, c.position, c.element_id, c.branch, c.attempt,
           CAST(c.status AS step_status), to_timestamp(c.started_at), c.duration_ms,
           c.request, c.response, coalesce(c.checks, '[]'), c.error,
           coalesce(c.attempts, 1),  -- a row leaves it out for one request
           c.resent_after, c.stalled_ms, coalesce(c.phase, 'main'), c.command
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

-- name: finish_cleanup
-- The cleanup of an ended run (cancelled or stuck) is done: nothing is owed any more, the
-- lease ends.
UPDATE test_run
SET cleanup_pending = false, lock_until = NULL, execution_context = :execution_context
WHERE id = :test_run_id AND locked_by = :worker AND attempt = :attempt
  AND status IN ('CANCELLED', 'FAILED_STUCK') AND cleanup_pending AND lock_until IS NOT NULL
RETURNING id;

-- name: complete_run
-- Finishes the run and counts it off its suite run; the caller closes the suite run when the
-- count reaches zero (`close_if_done`, which checks the runs themselves). A run this lease
-- ended so already (its transaction committed, the answer was lost, and it is applied again)
-- comes back too, counted off once.
WITH finished AS (
    UPDATE test_run
    SET status = CAST(:status AS test_run_status), status_changed = pg_current_xact_id(),
        finished_at = now(), lock_until = NULL,
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
