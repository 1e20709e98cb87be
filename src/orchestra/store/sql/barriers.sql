-- Shared barriers: runs of one suite run arriving, parking, and being woken or failed.

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
