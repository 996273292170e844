-- 0001: the first schema: accounts, rosters, last seen, offline queues.
-- Strings are COLLATE "C" so that orderings and key ranges are byte order,
-- as in the Pebble backend (ListAccounts, the 'jid#' device-key range).

CREATE TABLE accounts (
    jid               text COLLATE "C" PRIMARY KEY,
    domain            text COLLATE "C" NOT NULL GENERATED ALWAYS AS (
                          CASE WHEN strpos(jid, '@') > 0 THEN substr(jid, strpos(jid, '@') + 1) ELSE jid END
                      ) STORED,
    sha1_salt         bytea,
    sha1_iterations   bigint NOT NULL,
    sha1_stored_key   bytea,
    sha1_server_key   bytea,
    sha256_salt       bytea,
    sha256_iterations bigint NOT NULL,
    sha256_stored_key bytea,
    sha256_server_key bytea,
    created           timestamptz NOT NULL
);
CREATE INDEX accounts_domain ON accounts (domain, jid);

-- One row per owner whose roster was ever written; absent means version 0.
CREATE TABLE roster_versions (
    owner   text COLLATE "C" PRIMARY KEY,
    version bigint NOT NULL
) WITH (fillfactor = 80);

CREATE TABLE roster_items (
    owner             text COLLATE "C" NOT NULL,
    contact           text COLLATE "C" NOT NULL,
    name              text NOT NULL,
    roster_groups     text[] NOT NULL,
    subscription      text NOT NULL,
    ask_out           boolean NOT NULL,
    pending_in        boolean NOT NULL,
    pending_in_status text NOT NULL,
    pre_approved      boolean NOT NULL,
    hidden            boolean NOT NULL,
    PRIMARY KEY (owner, contact)
);

CREATE TABLE last_seen (
    jid     text COLLATE "C" PRIMARY KEY,
    seen_at timestamptz NOT NULL,
    status  text NOT NULL
) WITH (fillfactor = 80);

-- queue_seqs: the next sequence number of each queue ever written. Enqueue
-- locks (upserts) this row until it commits, which orders the commits of a
-- key's writers by seq. Rows are kept when queues drain: seqs are never reused.
CREATE TABLE queue_seqs (
    key      text COLLATE "C" PRIMARY KEY,
    next_seq bigint NOT NULL
) WITH (fillfactor = 70);

-- queue_heads: every seq below head was acknowledged (deleted). Reads start
-- at the head, so they never walk the dead index entries acks leave behind.
-- Separate from queue_seqs so acks never wait for an enqueue's fsync.
CREATE TABLE queue_heads (
    key  text COLLATE "C" PRIMARY KEY,
    head bigint NOT NULL
) WITH (fillfactor = 70);

CREATE TABLE queue (
    key     text COLLATE "C" NOT NULL,
    seq     bigint NOT NULL,
    stored  timestamptz NOT NULL,
    payload bytea NOT NULL,
    PRIMARY KEY (key, seq)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05);
