-- 0004: push registrations (XEP-0357): one row per (user, app server JID,
-- node); options are the publish-options fields as a JSON array of
-- {"Var": ..., "Values": [...]}, in the order the client gave them.

CREATE TABLE push_registrations (
    owner   text COLLATE "C" NOT NULL,
    service text COLLATE "C" NOT NULL,
    node    text COLLATE "C" NOT NULL,
    options jsonb NOT NULL,
    created timestamptz NOT NULL,
    PRIMARY KEY (owner, service, node)
);
