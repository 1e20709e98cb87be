-- name: insert_suite<!
INSERT INTO scenario_suite (process_id, criterion, parameters, coverage, unbound, fingerprint)
VALUES (:process_id, :criterion, :parameters, :coverage, :unbound, :fingerprint)
RETURNING id;

-- name: insert_scenario<!
INSERT INTO test_scenario (suite_id, name, position, path, branch_paths, decisions, depends_on,
                           cleanup)
VALUES (:suite_id, :name, :position, :path, :branch_paths, :decisions, :depends_on, :cleanup)
RETURNING id;

-- name: insert_step*!
INSERT INTO scenario_step (scenario_id, position, kind, element_id, name, branch, spec, meta)
VALUES (:scenario_id, :position, :kind, :element_id, :name, :branch, :spec, :meta);

-- name: get_suite^
SELECT s.id, s.process_id, p.key AS process_key, p.version AS process_version, s.criterion,
       s.parameters, s.coverage, s.unbound, s.fingerprint, s.created_at
FROM scenario_suite s JOIN process p ON p.id = s.process_id
WHERE s.id = :id;

-- name: list_suites
SELECT s.id, s.process_id, p.key AS process_key, p.version AS process_version, s.criterion,
       s.parameters, s.coverage, s.unbound, s.fingerprint, s.created_at
FROM scenario_suite s JOIN process p ON p.id = s.process_id
ORDER BY s.id;

-- name: get_scenarios
SELECT id, name, position, path, branch_paths, decisions, depends_on, cleanup
FROM test_scenario WHERE suite_id = :suite_id ORDER BY position;

-- name: get_steps
SELECT st.id, st.scenario_id, st.position, st.kind, st.element_id, st.name, st.branch,
       st.spec, st.meta
FROM scenario_step st JOIN test_scenario sc ON sc.id = st.scenario_id
WHERE sc.suite_id = :suite_id
ORDER BY st.scenario_id, st.position;

-- name: get_scenario^
SELECT id, suite_id, name, position, path, branch_paths, decisions, depends_on, cleanup
FROM test_scenario WHERE id = :id;

-- name: get_scenario_steps
SELECT id, scenario_id, position, kind, element_id, name, branch, spec, meta
FROM scenario_step WHERE scenario_id = :scenario_id ORDER BY position;

-- name: suite_by_fingerprint^
-- The newest suite generated from the same inputs (`services.generating.fingerprint`).
SELECT id FROM scenario_suite WHERE fingerprint = :fingerprint ORDER BY id DESC LIMIT 1;

-- name: insert_scenarios!
-- Every scenario of a suite from a JSON array of rows (`store.suiterows`), in their order.
INSERT INTO test_scenario (suite_id, name, position, path, branch_paths, decisions, depends_on,
                           cleanup)
SELECT :suite_id, s.name, s.position, s.path, s.branch_paths, s.decisions, s.depends_on,
       s.cleanup
FROM ROWS FROM (jsonb_to_recordset(CAST(:scenarios AS jsonb)) AS (
    name text, position integer, path jsonb, branch_paths jsonb, decisions jsonb,
    depends_on jsonb, cleanup jsonb
)) AS s
ORDER BY s.position;

-- name: insert_steps!
-- A part of a suite's steps from a JSON array of rows, each naming its scenario's position.
INSERT INTO scenario_step (scenario_id, position, kind, element_id, name, branch, spec, meta)
SELECT sc.id, s.position, CAST(s.kind AS step_kind), s.element_id, s.name, s.branch, s.spec,
       s.meta
FROM ROWS FROM (jsonb_to_recordset(CAST(:steps AS jsonb)) AS (
    scenario integer, position integer, kind text, element_id text, name text, branch text,
    spec jsonb, meta jsonb
)) AS s
JOIN test_scenario sc ON sc.suite_id = :suite_id AND sc.position = s.scenario
ORDER BY s.scenario, s.position;

-- name: suite_by_request^
-- The newest suite of the fingerprint a request with this digest was found to have
-- (`services.generating.request_digest`): no parse of the request's bindings.
SELECT s.id, s.process_id, p.key AS process_key, p.version AS process_version, s.criterion,
       s.parameters, s.coverage, s.unbound, s.fingerprint, s.created_at
FROM suite_request r
JOIN scenario_suite s ON s.fingerprint = r.fingerprint
JOIN process p ON p.id = s.process_id
WHERE r.digest = :digest
ORDER BY s.id DESC LIMIT 1;

-- name: remember_request!
-- The fingerprint a request with this digest has, as its inputs were just parsed, and the
-- suite found or generated for it, whose deletion deletes the row (ON DELETE CASCADE).
INSERT INTO suite_request (digest, fingerprint, suite_id)
VALUES (:digest, :fingerprint, :suite_id)
ON CONFLICT (digest) DO UPDATE
SET fingerprint = excluded.fingerprint, suite_id = excluded.suite_id
WHERE suite_request.fingerprint <> excluded.fingerprint;
