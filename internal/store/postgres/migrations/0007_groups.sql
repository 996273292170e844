-- 0007: groups (docs/protocol/groups.md): the group, its members with a
-- role, and its invite links (only the SHA-256 of a link's token).
-- DeleteAccount removes the user's memberships.

CREATE TABLE groups (
    id          text COLLATE "C" PRIMARY KEY,
    subject     text NOT NULL,
    description text NOT NULL,
    owner       text COLLATE "C" NOT NULL,
    created     timestamptz NOT NULL,
    admins_only boolean NOT NULL,
    max_members integer NOT NULL
);

CREATE TABLE group_members (
    group_id text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    jid      text COLLATE "C" NOT NULL,
    role     text NOT NULL,
    joined   timestamptz NOT NULL,
    PRIMARY KEY (group_id, jid)
);

CREATE INDEX group_members_by_jid ON group_members (jid, group_id);

CREATE TABLE group_invites (
    token_hash bytea PRIMARY KEY,
    group_id   text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created    timestamptz NOT NULL,
    revoked    boolean NOT NULL
);
