-- 0002: block lists (XEP-0191). One row per (user, blocked JID); the JIDs
-- sort by byte order (COLLATE "C"), as GetBlocklist returns them.

CREATE TABLE blocklist (
    owner   text COLLATE "C" NOT NULL,
    blocked text COLLATE "C" NOT NULL,
    PRIMARY KEY (owner, blocked)
);
