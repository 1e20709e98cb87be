-- A worker's hold on runs: the claim, the heartbeat that renews its leases, the release back to
-- the queue. Every write a worker makes to a run it holds is fenced by its lease:
-- `locked_by = :worker AND attempt = :attempt AND status = 'RUNNING'`. Lease times are always
-- computed with the database's clock, never the worker's.

-- name: claim_runs
-- QUEUED runs that are available (oldest first), and RUNNING runs whose lease expired with
-- attempts left. Each part walks its own partial index, so a claim costs the same whether the
-- suite run has ten runs done or ten thousand. An expired lease is recorded in `lost_lease` as
-- its row stood when locked (FOR UPDATE reads the newest version): who held it and what it had
-- checkpointed. Without :suite_run_id, the queued runs taken are the oldest of all (`queued`);
-- with it, the oldest of that suite run (`queued_of_one`, through the index of each suite
-- run's queue), however many older runs of others are queued: one plan, made once for any
-- value (see `store.database`), serves both, each part reading nothing when the other is
-- asked for. Expired leases and owed cleanups are few: their parts filter the suite run as
-- they walk their indexes.
WITH queued AS (
    SELECT id FROM test_run
    WHERE status = 'QUEUED' AND available_at <= now() AND CAST(:suite_run_id AS bigint) IS NULL
    ORDER BY available_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), queued_of_one AS (
    -- `available_at <= now()` bounded with the suite run (a row comparison) so that only
    -- test_run_suite_queued_idx can bound it: with statistics that know of one suite run
    -- only (a new database's first backlog), walking test_run_queued_idx looks as cheap
    SELECT id FROM test_run
    WHERE status = 'QUEUED' AND suite_run_id = :suite_run_id
      AND (suite_run_id, available_at) <= (:suite_run_id, now())
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
    -- ended runs that still owe their cleanup, claimed for that alone (they keep their
    -- status): cancelled ones that had started (never claimed for it, or their cleanup's
    -- lease expired), and stuck ones once (never claimed for it: see `reap_stuck`)
    SELECT id FROM test_run
    WHERE status IN ('CANCELLED', 'FAILED_STUCK') AND cleanup_pending
      AND (status = 'CANCELLED' AND (lock_until IS NULL OR lock_until < now())
               AND lost_leases < max_attempts
           OR status = 'FAILED_STUCK' AND lock_until IS NULL)
      AND (CAST(:suite_run_id AS bigint) IS NULL OR suite_run_id = :suite_run_id)
    ORDER BY lock_until NULLS FIRST
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
), candidates AS (
    (SELECT id FROM expired) UNION ALL (SELECT id FROM cleaning) UNION ALL
    (SELECT id FROM queued) UNION ALL (SELECT id FROM queued_of_one) LIMIT :limit
), lost AS (
    INSERT INTO lost_lease (test_run_id, attempt, worker, heartbeat_at, expired_at, done)
    SELECT e.id, e.attempt, e.locked_by, e.heartbeat_at, e.lock_until, e.done
    FROM expired e JOIN candidates c ON c.id = e.id
    ON CONFLICT DO NOTHING
)
UPDATE test_run t
SET status = CASE WHEN t.status IN ('CANCELLED', 'FAILED_STUCK') THEN t.status
                  ELSE 'RUNNING' END,
    status_changed = CASE WHEN t.status = 'QUEUED' THEN pg_current_xact_id()
                          ELSE t.status_changed END,
    lost_leases = t.lost_leases
                  + (t.status = 'RUNNING' OR t.status = 'CANCELLED' AND t.lock_until IS NOT NULL)::int,
    locked_by = :worker,
    lock_until = now() + make_interval(secs => :lease_seconds),
    heartbeat_at = now(),
    attempt = t.attempt + 1,
    started_at = coalesce(t.started_at, now())
-- by key, whatever the planner guesses of :limit (a generic plan takes a tenth of the queue,
-- and would scan the whole table to hash-join that many)
WHERE t.id = ANY(ARRAY(SELECT id FROM candidates))
RETURNING t.id, t.suite_run_id, t.scenario_id, t.data_row_index, t.repeat_index, t.data_row,
          t.attempt, t.execution_context,
          t.status IN ('CANCELLED', 'FAILED_STUCK') AS cleanup_only,
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
          -- the last claim that left a step in flight ({attempt, done}): its lease lost, or
          -- released by its worker mid-step; the steps it had in flight are re-sends. One
          -- expiring now is in `expired`: a CTE's insert is invisible to the statement. A
          -- first claim (the attempt as updated: 1) has none, and looks nothing up.
          CASE WHEN t.attempt > 1 THEN (
              SELECT jsonb_build_object('attempt', x.attempt, 'done', x.done)
              FROM (SELECT e.attempt, e.done FROM expired e WHERE e.id = t.id
                    UNION ALL
                    SELECT l.attempt, l.done FROM lost_lease l
                    WHERE t.lost_leases > 0 AND l.test_run_id = t.id
                    UNION ALL
                    SELECT r.attempt, r.done FROM released_claim r WHERE r.test_run_id = t.id) x
              ORDER BY x.attempt DESC LIMIT 1)
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
-- A run it left (:left_ids with :left_attempts: stopped mid-step, or its checkpoint lost) is
-- recorded in `released_claim`, so the step it had in flight is marked re-sent when executed
-- again; a claim whose answer was lost sent nothing and is not.
WITH released AS (
    UPDATE test_run
    SET status = 'QUEUED', status_changed = pg_current_xact_id(), lock_until = NULL,
        queued_at = now(), available_at = now()
    WHERE locked_by = :worker AND status = 'RUNNING'
      AND (id, attempt) NOT IN (
          SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[])))
    RETURNING id, attempt, coalesce(execution_context -> 'done', '{}') AS done
), recorded AS (
    INSERT INTO released_claim (test_run_id, attempt, worker, why, done)
    SELECT r.id, r.attempt, :worker, 'unreachable', r.done
    FROM released r
    WHERE (r.id, r.attempt) IN (
        SELECT * FROM unnest(CAST(:left_ids AS bigint[]), CAST(:left_attempts AS int[])))
    ON CONFLICT DO NOTHING
)
SELECT id FROM released;

-- name: next_foreign_expiry^
-- Seconds until the earliest lease another worker holds expires (NULL: none, negative: past),
-- so an idle worker wakes as that run becomes claimable instead of at its next poll. Walks
-- the lease index from its first entry.
SELECT extract(epoch FROM min(lock_until) - now())::float8 AS seconds
FROM test_run
WHERE status = 'RUNNING' AND locked_by <> :worker AND lost_leases + 1 < max_attempts;

-- name: heartbeat
-- Renews every lease the worker holds (a run's, or an ended run's cleanup's); the runs not
-- returned are no longer its own. A run
-- cancelled under the lease (its suite run cancelled: the cancel keeps `locked_by` and
-- `attempt`) comes back too, `cancelled` and not renewed, so the worker can tell it from a
-- lease another worker took. Read as of the statement's start: a cancel committing while the
-- renewal waits for the row is seen by neither part, and the run reads as lost.
WITH renewed AS (
    UPDATE test_run
    SET lock_until = now() + make_interval(secs => :lease_seconds), heartbeat_at = now()
    WHERE locked_by = :worker
      AND (status = 'RUNNING' OR status IN ('CANCELLED', 'FAILED_STUCK')
                                 AND cleanup_pending AND lock_until IS NOT NULL)
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

-- name: release_run
-- Back to the queue (graceful shutdown, or parked at a barrier until :available_at), with
-- :execution_context, or as its last checkpoint left it (NULL: a run a drain stopped mid-step,
-- whose last checkpoint may have committed after the worker stopped waiting for it: recorded in
-- `released_claim`, its step in flight may have reached the SUT). A run
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
), released AS (
    UPDATE test_run t
    SET status = 'QUEUED', status_changed = pg_current_xact_id(), lock_until = NULL,
        queued_at = now(), execution_context = coalesce(:execution_context, t.execution_context),
        available_at = CASE
            WHEN (SELECT every FROM passed) THEN now()
            ELSE coalesce(to_timestamp(:available_at), now())
        END
    WHERE id = :test_run_id AND locked_by = :worker AND attempt = :attempt
      AND status = 'RUNNING'
    RETURNING t.id, t.attempt, coalesce(t.execution_context -> 'done', '{}') AS done
), recorded AS (
    -- stopped mid-step (no context): the step it had in flight is a re-send when run again
    INSERT INTO released_claim (test_run_id, attempt, worker, why, done)
    SELECT r.id, r.attempt, :worker, 'drained', r.done
    FROM released r
    WHERE CAST(:execution_context AS jsonb) IS NULL
    ON CONFLICT DO NOTHING
)
SELECT id FROM released;

-- name: run_statuses
-- The current status of some runs, for a worker to tell a lease refused on a write because
-- the run was cancelled from one another worker took.
SELECT id, status, attempt, locked_by FROM test_run WHERE id = ANY(:ids);
