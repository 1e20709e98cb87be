-- name: upsert_data_set<!
-- The rows come as JSON text and are not returned: the caller has them. A data set stored
-- with these very rows is left as it is: no write, so no flush of the log at commit.
-- :source_digest: the file content's (see data_set_from_file); kept when none is given.
WITH same AS (
    SELECT id, name FROM test_data_set
    WHERE name = :name AND rows = CAST(:rows AS jsonb)
      AND (CAST(:source_digest AS text) IS NULL OR source_digest = :source_digest)
), written AS (
    INSERT INTO test_data_set (name, rows, source_digest)
    SELECT :name, CAST(:rows AS jsonb), :source_digest WHERE NOT EXISTS (SELECT FROM same)
    ON CONFLICT (name) DO UPDATE
    SET rows = excluded.rows, source_digest = excluded.source_digest, updated_at = now()
    RETURNING id, name
)
SELECT id, name FROM same UNION ALL SELECT id, name FROM written;

-- name: create_data_set_parts!
-- A data set's JSON text is sent in parts (`store_data_set_parts`), so that no one
-- statement carries it whole: psycopg and libpq encode and copy a parameter at once on the
-- caller's event loop. The table lives until the transaction ends.
CREATE TEMPORARY TABLE data_set_part (n integer PRIMARY KEY, part text NOT NULL) ON COMMIT DROP;

-- name: add_data_set_part!
INSERT INTO data_set_part (n, part) VALUES (:n, :part);

-- name: upsert_data_set_from_parts<!
-- Left as it is when stored with these very rows (see upsert_data_set).
WITH given AS (
    SELECT CAST(string_agg(part, '' ORDER BY n) AS jsonb) AS rows FROM data_set_part
), same AS (
    SELECT id, name FROM test_data_set
    WHERE name = :name AND rows = (SELECT rows FROM given)
      AND (CAST(:source_digest AS text) IS NULL OR source_digest = :source_digest)
), written AS (
    INSERT INTO test_data_set (name, rows, source_digest)
    SELECT :name, rows, :source_digest FROM given WHERE NOT EXISTS (SELECT FROM same)
    ON CONFLICT (name) DO UPDATE
    SET rows = excluded.rows, source_digest = excluded.source_digest, updated_at = now()
    RETURNING id, name
)
SELECT id, name FROM same UNION ALL SELECT id, name FROM written;

-- name: get_data_set^
SELECT id, name, rows FROM test_data_set WHERE name = :name;

-- name: get_data_set_from^
-- Data set `name` when last stored from the file content with this digest.
SELECT id, name, rows FROM test_data_set WHERE name = :name AND source_digest = :source_digest;

-- name: get_data_set_by_id^
SELECT id, name, rows FROM test_data_set WHERE id = :id;

-- name: list_data_sets
SELECT id, name, rows FROM test_data_set ORDER BY name;

-- name: upsert_environment<!
-- An environment stored with this very configuration is left as it is (see upsert_data_set).
-- :source_digest as upsert_data_set's.
WITH same AS (
    SELECT id, name, configuration, secret_refs FROM environment
    WHERE name = :name AND configuration = :configuration AND secret_refs = :secret_refs
      AND (CAST(:source_digest AS text) IS NULL OR source_digest = :source_digest)
), written AS (
    INSERT INTO environment (name, configuration, secret_refs, source_digest)
    SELECT :name, :configuration, :secret_refs, :source_digest WHERE NOT EXISTS (SELECT FROM same)
    ON CONFLICT (name) DO UPDATE
    SET configuration = excluded.configuration, secret_refs = excluded.secret_refs,
        source_digest = excluded.source_digest, updated_at = now()
    RETURNING id, name, configuration, secret_refs
)
SELECT * FROM same UNION ALL SELECT * FROM written;

-- name: get_environment^
SELECT id, name, configuration, secret_refs FROM environment WHERE name = :name;

-- name: get_environment_from^
-- The environment last stored from the file content with this digest (one at most: the
-- content names it).
SELECT id, name, configuration, secret_refs FROM environment WHERE source_digest = :source_digest
LIMIT 1;

-- name: get_environment_by_id^
SELECT id, name, configuration, secret_refs FROM environment WHERE id = :id;

-- name: list_environments
SELECT id, name, configuration, secret_refs FROM environment ORDER BY name;

-- name: list_data_set_names
SELECT name FROM test_data_set ORDER BY name;

-- name: list_data_set_heads
-- Every data set with its number of rows and its first :head rows only (none sent past them).
SELECT id, name, jsonb_array_length(rows) AS total,
       jsonb_path_query_array(
           rows, CAST('$[0 to ' || (CAST(:head AS integer) - 1) || ']' AS jsonpath)
       ) AS head
FROM test_data_set ORDER BY name;
