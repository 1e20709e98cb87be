-- Retention (`orchestra prune`): which ended suite runs to delete, and their deletion.

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
