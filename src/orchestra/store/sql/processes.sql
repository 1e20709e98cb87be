-- name: insert_process<!
-- A new version of a process (the caller computed the next version number). The graph is not
-- returned: the caller has it, and reading a large one back held the event loop (260 ms for
-- 20,000 tasks).
INSERT INTO process (key, version, name, source_name, source_xml, checksum, graph, problems)
VALUES (:key, :version, :name, :source_name, :source_xml, :checksum, :graph, :problems)
RETURNING id, imported_at;

-- name: get_by_checksum^
SELECT id, key, version, name, checksum, graph, problems, source_name, imported_at
FROM process WHERE key = :key AND checksum = :checksum;

-- name: get_by_source
-- The processes stored from one file's text: each the first version of its content, so the
-- one an import of the same text finds by checksum.
SELECT id, key, version, name, checksum, graph, problems, source_name, imported_at
FROM process WHERE source_xml = :source_xml ORDER BY id;

-- name: get_version^
SELECT id, key, version, name, checksum, graph, problems, source_name, imported_at
FROM process WHERE key = :key AND version = :version;

-- name: get_latest^
SELECT id, key, version, name, checksum, graph, problems, source_name, imported_at
FROM process WHERE key = :key ORDER BY version DESC LIMIT 1;

-- name: get_by_id^
SELECT id, key, version, name, checksum, graph, problems, source_name, imported_at
FROM process WHERE id = :id;

-- name: next_version$
-- Locks the key's versions so two imports of the same key cannot pick the same number.
SELECT coalesce(max(version), 0) + 1 AS version FROM process WHERE key = :key;

-- name: lock_key!
SELECT pg_advisory_xact_lock(hashtext('process:' || :key));

-- name: list_latest
SELECT DISTINCT ON (key) id, key, version, name, checksum, graph, problems, source_name,
       imported_at
FROM process ORDER BY key, version DESC;

-- name: keys_named
-- The keys of the processes whose newest version has this name: what a user named a process by
-- its name instead of its key is told to write.
SELECT key FROM (SELECT DISTINCT ON (key) key, name FROM process ORDER BY key, version DESC) p
WHERE name = :name ORDER BY key;

-- name: get_source$
SELECT source_xml FROM process WHERE id = :id;

-- name: list_versions
-- Every version of one process, newest first, without its graph or source.
SELECT id, key, version, name, checksum, source_name, imported_at
FROM process WHERE key = :key ORDER BY version DESC;

-- name: get_unparsed^
-- A process version (the newest when :version is NULL) with its graph as JSON text, to be
-- parsed off the event loop, and the keys its call activities name, in document order.
SELECT id, key, version, CAST(graph AS text) AS graph_json,
       ARRAY(
           SELECT n.node ->> 'called_element'
           FROM jsonb_array_elements(graph -> 'nodes') WITH ORDINALITY AS n(node, i)
           WHERE n.node ->> 'category' = 'callActivity'
             AND coalesce(n.node ->> 'called_element', '') <> ''
           ORDER BY n.i
       ) AS called
FROM process
WHERE key = :key AND (CAST(:version AS integer) IS NULL OR version = :version)
ORDER BY version DESC LIMIT 1;
