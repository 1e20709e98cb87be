"""The whole data model: processes, suites, scenarios, steps, data sets, environments, runs.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None

SCHEMA = """
CREATE TYPE coverage_criterion AS ENUM ('all-flows', 'all-nodes', 'all-paths');
CREATE TYPE step_kind AS ENUM ('ACTION', 'ASSERTION', 'BARRIER');
CREATE TYPE suite_run_status AS ENUM ('IN_PROGRESS', 'PASSED', 'FAILED', 'CANCELLED');
CREATE TYPE test_run_status AS ENUM (
    'PENDING', 'QUEUED', 'RUNNING', 'PASSED', 'FAILED', 'ERROR', 'SKIPPED', 'CANCELLED',
    'FAILED_STUCK'
);
CREATE TYPE step_status AS ENUM ('PASSED', 'FAILED', 'ERROR', 'SKIPPED');

CREATE TABLE process (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text NOT NULL CHECK (key <> ''),
    version     integer NOT NULL CHECK (version >= 1),
    name        text,
    source_name text,
    source_xml  text NOT NULL,
    checksum    text NOT NULL,
    graph       jsonb NOT NULL CHECK (jsonb_typeof(graph) = 'object'),
    problems    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(problems) = 'array'),
    imported_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (key, version),
    UNIQUE (key, checksum)
);

CREATE TABLE scenario_suite (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    process_id  bigint NOT NULL REFERENCES process (id) ON DELETE CASCADE,
    criterion   coverage_criterion NOT NULL,
    parameters  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(parameters) = 'object'),
    coverage    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(coverage) = 'object'),
    unbound     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(unbound) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scenario_suite_process_idx ON scenario_suite (process_id);

CREATE TABLE test_scenario (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    suite_id     bigint NOT NULL REFERENCES scenario_suite (id) ON DELETE CASCADE,
    name         text NOT NULL,
    position     integer NOT NULL CHECK (position >= 0),
    path         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(path) = 'array'),
    branch_paths jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(branch_paths) = 'object'),
    decisions    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(decisions) = 'array'),
    depends_on   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(depends_on) = 'array'),
    UNIQUE (suite_id, position),
    UNIQUE (suite_id, name)
);

CREATE TABLE scenario_step (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scenario_id bigint NOT NULL REFERENCES test_scenario (id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 0),
    kind        step_kind NOT NULL,
    element_id  text,
    name        text,
    branch      text NOT NULL DEFAULT '',
    spec        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(spec) = 'object'),
    meta        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(meta) = 'object'),
    UNIQUE (scenario_id, position)
);

CREATE TABLE test_data_set (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name <> ''),
    rows        jsonb NOT NULL CHECK (jsonb_typeof(rows) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Secrets are references (names of environment variables), never values.
CREATE TABLE environment (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name <> ''),
    configuration jsonb NOT NULL CHECK (jsonb_typeof(configuration) = 'object'),
    secret_refs   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(secret_refs) = 'array'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE suite_run (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    suite_id       bigint NOT NULL REFERENCES scenario_suite (id) ON DELETE RESTRICT,
    environment_id bigint REFERENCES environment (id) ON DELETE RESTRICT,
    data_set_id    bigint REFERENCES test_data_set (id) ON DELETE RESTRICT,
    status         suite_run_status NOT NULL DEFAULT 'IN_PROGRESS',
    context        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(context) = 'object'),
    summary        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(summary) = 'object'),
    -- how many of its test runs are not terminal yet: a hint that spares each completion a
    -- scan; the suite run is only closed after checking its runs themselves
    unfinished     integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    CHECK ((status = 'IN_PROGRESS') = (finished_at IS NULL))
);
CREATE INDEX suite_run_open_idx ON suite_run (id) WHERE status = 'IN_PROGRESS';

CREATE TABLE test_run (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    suite_run_id      bigint NOT NULL REFERENCES suite_run (id) ON DELETE CASCADE,
    scenario_id       bigint NOT NULL REFERENCES test_scenario (id) ON DELETE RESTRICT,
    data_row_index    integer CHECK (data_row_index >= 0),
    data_row          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data_row) = 'object'),
    status            test_run_status NOT NULL DEFAULT 'PENDING',
    execution_context jsonb NOT NULL DEFAULT '{}'
                      CHECK (jsonb_typeof(execution_context) = 'object'),
    locked_by         text,
    lock_until        timestamptz,
    heartbeat_at      timestamptz,
    -- attempt: claims so far, the fencing token with locked_by; lost_leases: how many of
    -- them ended with the lease expiring (a crashed or hung worker)
    attempt           integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts      integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    lost_leases       integer NOT NULL DEFAULT 0 CHECK (lost_leases >= 0),
    -- a QUEUED run is claimable from this moment (runs parked at a barrier wait here)
    available_at      timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    queued_at         timestamptz,
    started_at        timestamptz,
    finished_at       timestamptz,
    error             text,
    UNIQUE (suite_run_id, scenario_id, data_row_index),
    CHECK (status <> 'RUNNING' OR (locked_by IS NOT NULL AND lock_until IS NOT NULL))
);
-- Serves the claim: "the next QUEUED run, or a RUNNING run whose lease expired".
CREATE INDEX test_run_queued_idx ON test_run (available_at, id) WHERE status = 'QUEUED';
CREATE INDEX test_run_lease_idx ON test_run (lock_until) WHERE status = 'RUNNING';
CREATE INDEX test_run_suite_run_idx ON test_run (suite_run_id, status);
-- Serves "is every run of this suite run terminal?", asked at each completion.
CREATE INDEX test_run_unfinished_idx ON test_run (suite_run_id)
    WHERE status IN ('PENDING', 'QUEUED', 'RUNNING');

-- dependsOn resolved to runs: test_run_id may start once depends_on_id ended with `outcome`.
CREATE TABLE test_run_dependency (
    test_run_id   bigint NOT NULL REFERENCES test_run (id) ON DELETE CASCADE,
    depends_on_id bigint NOT NULL REFERENCES test_run (id) ON DELETE CASCADE,
    outcome       test_run_status NOT NULL DEFAULT 'PASSED',
    PRIMARY KEY (test_run_id, depends_on_id),
    CHECK (test_run_id <> depends_on_id)
);
CREATE INDEX test_run_dependency_reverse_idx ON test_run_dependency (depends_on_id);

CREATE TABLE step_result (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    test_run_id  bigint NOT NULL REFERENCES test_run (id) ON DELETE CASCADE,
    step_id      bigint REFERENCES scenario_step (id) ON DELETE SET NULL,
    position     integer NOT NULL CHECK (position >= 0),
    element_id   text,
    branch       text NOT NULL DEFAULT '',
    attempt      integer NOT NULL CHECK (attempt >= 1),
    status       step_status NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_ms  double precision NOT NULL CHECK (duration_ms >= 0),
    request      jsonb,
    response     jsonb,
    checks       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(checks) = 'array'),
    error        text,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    -- a completed step is recorded once per run: resumed runs never re-record it
    UNIQUE (test_run_id, position)
);

-- Barriers shared by several runs of one suite run: early arrivals park here.
CREATE TABLE suite_barrier (
    suite_run_id bigint NOT NULL REFERENCES suite_run (id) ON DELETE CASCADE,
    name         text NOT NULL,
    parties      integer NOT NULL CHECK (parties >= 1),
    arrived      bigint[] NOT NULL DEFAULT '{}',
    timeout_at   timestamptz,
    released_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (suite_run_id, name)
);
"""

DROP = """
DROP TABLE suite_barrier, step_result, test_run_dependency, test_run, suite_run, environment,
    test_data_set, scenario_step, test_scenario, scenario_suite, process;
DROP TYPE step_status, test_run_status, suite_run_status, step_kind, coverage_criterion;
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute(DROP)
