-- 0006: devices linked to an account by pairing (docs/protocol/devices.md).
-- token_hash is the SHA-256 of the device's token: the token itself is
-- never stored. last_seen is NULL until the device's first login.

CREATE TABLE devices (
    owner      text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    name       text NOT NULL,
    created    timestamptz NOT NULL,
    last_seen  timestamptz,
    token_hash bytea NOT NULL,
    PRIMARY KEY (owner, id)
);
