-- 0003: privacy settings and the message archive (XEP-0313) with its
-- preferences.

CREATE TABLE privacy (
    owner               text COLLATE "C" PRIMARY KEY,
    last_seen           smallint NOT NULL,
    online_as_last_seen boolean NOT NULL,
    read_receipts_off   boolean NOT NULL,
    photo               smallint NOT NULL
);

-- archive: one row per archived message; ids are unique per owner. Pages
-- are read in (t, id) order from archive_time, or archive_with for one
-- peer; DeleteArchiveBefore walks archive_cutoff, oldest first.
CREATE TABLE archive (
    owner    text COLLATE "C" NOT NULL,
    id       text COLLATE "C" NOT NULL,
    t        timestamptz NOT NULL,
    with_jid text COLLATE "C" NOT NULL,
    payload  bytea NOT NULL,
    PRIMARY KEY (owner, id)
);
CREATE INDEX archive_time ON archive (owner, t, id);
CREATE INDEX archive_with ON archive (owner, with_jid, t, id);
CREATE INDEX archive_cutoff ON archive (t);

CREATE TABLE archive_prefs (
    owner        text COLLATE "C" PRIMARY KEY,
    default_mode text NOT NULL,
    always_jids  text[] NOT NULL,
    never_jids   text[] NOT NULL
);
