-- 0009: stream-management resumption records (XEP-0198 state of a session
-- handed off by a live upgrade or a node leaving the cluster), so that the
-- device resumes on any node. seqs[i] and payloads[i] are the i-th
-- unacknowledged stanza (seq 0: not in the queue).

CREATE TABLE resumptions (
    id       text COLLATE "C" PRIMARY KEY,
    owner    text COLLATE "C" NOT NULL,
    jid      text COLLATE "C" NOT NULL,
    device   text COLLATE "C" NOT NULL,
    in_h     bigint NOT NULL,
    acked    bigint NOT NULL,
    presence bytea,
    seqs     bigint[] NOT NULL,
    payloads bytea[] NOT NULL,
    expires  timestamptz NOT NULL
);

CREATE INDEX resumptions_expires ON resumptions (expires);
