-- Contest and smart-village scorecards (balai-contest; issue 6). A period is a year; a rule set
-- is an id of assets/contest (spbe, epdeskel, lomba-kelurahan, smart-city) and the edition the
-- period is scored under.

-- One indicator's value for one period. Synced (field group `value`): every PC of the office
-- and the city hold the same values, the newest entry winning. The row id is derived from
-- (ruleset, period, indicator), so two PCs entering the same indicator offline write the same
-- row and the merge keeps one. `value` NULL: cleared.
CREATE TABLE contest_values (
    id            BLOB PRIMARY KEY,
    ruleset       TEXT NOT NULL,
    edition       TEXT NOT NULL,
    period        INTEGER NOT NULL,
    indicator     TEXT NOT NULL,
    value         INTEGER,
    note          TEXT NOT NULL DEFAULT '',
    entered_by    TEXT NOT NULL,
    entered_at_ms INTEGER NOT NULL,
    UNIQUE (ruleset, period, indicator)
) STRICT;

-- Evidence files, by the SHA-256 of their bytes: a file attached to several indicators or
-- periods is stored once. Local to this PC.
CREATE TABLE contest_files (
    sha256     TEXT PRIMARY KEY,
    media_type TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    bytes      BLOB NOT NULL,
    -- A small grey PNG of a photo or a scanned PDF's page (NULL for a PDF of text).
    thumbnail  BLOB
) STRICT;

-- A file attached to an indicator of a period, under the name it was given.
CREATE TABLE contest_evidence (
    id          BLOB PRIMARY KEY,
    ruleset     TEXT NOT NULL,
    period      INTEGER NOT NULL,
    indicator   TEXT NOT NULL,
    sha256      TEXT NOT NULL REFERENCES contest_files (sha256),
    file_name   TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at_ms INTEGER NOT NULL,
    UNIQUE (ruleset, period, indicator, sha256)
) STRICT;
CREATE INDEX contest_evidence_period ON contest_evidence (ruleset, period);

-- The effort of raising an indicator by one step, for the planner (default 1).
CREATE TABLE contest_efforts (
    ruleset   TEXT NOT NULL,
    indicator TEXT NOT NULL,
    effort    INTEGER NOT NULL CHECK (effort >= 0),
    PRIMARY KEY (ruleset, indicator)
) STRICT;

-- A submitted period, with the total and band it was submitted with: locked against edits on
-- this PC. The submission also goes to the city as a command.
CREATE TABLE contest_periods (
    ruleset         TEXT NOT NULL,
    period          INTEGER NOT NULL,
    edition         TEXT NOT NULL,
    total           REAL NOT NULL,
    band            TEXT NOT NULL,
    submitted_by    TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL,
    PRIMARY KEY (ruleset, period)
) STRICT;

-- A plan accepted as a task list: raise this indicator to this value.
CREATE TABLE contest_tasks (
    id          BLOB PRIMARY KEY,
    ruleset     TEXT NOT NULL,
    period      INTEGER NOT NULL,
    indicator   TEXT NOT NULL,
    target      INTEGER NOT NULL,
    effort      INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    done_at_ms  INTEGER,
    UNIQUE (ruleset, period, indicator)
) STRICT;

-- Rule set editions the city published after this build (its year's guideline), as received
-- from the city-wide reference feed: the TOML text, checked by balai-contest when loaded.
CREATE TABLE contest_editions (
    ruleset        TEXT NOT NULL,
    edition        TEXT NOT NULL,
    body           TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (ruleset, edition)
) STRICT;
