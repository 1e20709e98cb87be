-- Looking up what a user named: a suite or a suite run by id, as `latest`, or by its process
-- (see `orchestra.domain.references`).

-- name: find_suite^
-- The newest suite of process :key in its version :version (the newest version when NULL)
-- with criterion :criterion (any when NULL): `version` is the version looked in, `suite_id`
-- NULL when it has no such suite; no row when the key has no such version. Through the
-- unique (key, version) index and scenario_suite_process_idx.
WITH chosen AS (
    SELECT id, version FROM process
    WHERE key = :key AND (CAST(:version AS integer) IS NULL OR version = :version)
    ORDER BY version DESC
    LIMIT 1
)
SELECT c.version,
       (SELECT max(s.id) FROM scenario_suite s
        WHERE s.process_id = c.id
          AND (CAST(:criterion AS text) IS NULL
               OR s.criterion = CAST(:criterion AS coverage_criterion))) AS suite_id
FROM chosen c;

-- name: newest_suite^
SELECT max(id) AS id FROM scenario_suite;

-- name: suite_exists^
SELECT id FROM scenario_suite WHERE id = :id;

-- name: newest_suite_run^
-- The newest suite run, of suite :suite_id when given (through suite_run_suite_idx).
SELECT max(id) AS id FROM suite_run
WHERE CAST(:suite_id AS bigint) IS NULL OR suite_id = :suite_id;

-- name: suite_run_exists^
SELECT id FROM suite_run WHERE id = :id;
