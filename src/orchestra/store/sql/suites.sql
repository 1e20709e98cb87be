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
