-- The scheduler's transitions (PENDING runs queued or skipped, suite runs closed), the sweep's
-- look at what changed, and the reaper (FAILED_STUCK).

-- name: promote_ready
-- PENDING runs of a suite run whose every dependency ended with its required outcome.
UPDATE test_run t
SET status = 'QUEUED', status_changed = pg_current_xact_id(), queued_at = now(),
    available_at = now()
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
    SET status = 'SKIPPED', status_changed = pg_current_xact_id(), finished_at = now(),
        error = blocker.reason,
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
-- last lost lease is recorded like the claim records the others. One whose scenario has undo
-- or cleanup actions still owes them (`cleanup_pending`): `claim_runs` hands it out once more
-- for that alone. When that claim's lease expires too, the cleanup is given up on here: the
-- actions that kill its workers may be among them, so it is not claimed again.
WITH stuck AS (
    SELECT id, scenario_id, attempt, locked_by, heartbeat_at, lock_until,
           coalesce(execution_context -> 'done', '{}') AS done
    FROM test_run
    WHERE status = 'RUNNING' AND lock_until < now() AND lost_leases + 1 >= max_attempts
    FOR UPDATE SKIP LOCKED
), reaped AS (
UPDATE test_run t
SET status = 'FAILED_STUCK', status_changed = pg_current_xact_id(), finished_at = now(),
    lock_until = NULL,
    lost_leases = t.lost_leases + 1,
    cleanup_pending = owes.cleanup,
    error = format('lease lost %%s times (last held by %%s, heartbeat at %%s); attempt limit %%s',
                   t.lost_leases + 1, t.locked_by, t.heartbeat_at, t.max_attempts)
            || CASE WHEN owes.cleanup THEN '; its cleanup is left to one more claim' ELSE '' END
FROM stuck, LATERAL (
    SELECT EXISTS (
        SELECT 1 FROM test_scenario sc
        WHERE sc.id = stuck.scenario_id
          AND (sc.cleanup <> '[]' OR EXISTS (
              SELECT 1 FROM scenario_step st WHERE st.scenario_id = sc.id AND st.spec ? 'undo')))
    AS cleanup
) owes
WHERE t.id = stuck.id
RETURNING t.id, t.suite_run_id
), given_up AS (
    -- a stuck run's cleanup whose lease expired too: not claimed again
    UPDATE test_run
    SET cleanup_pending = false, lock_until = NULL,
        error = error || format('; that claim''s lease expired too (held by %%s):', locked_by)
                || ' its cleanup is not run again'
    WHERE status = 'FAILED_STUCK' AND cleanup_pending AND lock_until < now()
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
