-- 0008: group messages' senders and per-member receipts
-- (docs/protocol/groups.md, "Receipts").

CREATE TABLE group_messages (
    group_id text COLLATE "C" NOT NULL,
    msg_id   text COLLATE "C" NOT NULL,
    sender   text COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, msg_id)
);

CREATE TABLE group_receipts (
    group_id  text COLLATE "C" NOT NULL,
    msg_id    text COLLATE "C" NOT NULL,
    member    text COLLATE "C" NOT NULL,
    delivered timestamptz NOT NULL,
    displayed timestamptz,
    PRIMARY KEY (group_id, msg_id, member)
);
