-- 0005: personal eventing (XEP-0163). Node names and item ids are bytea:
-- they are any string (text cannot hold NUL), and bytea sorts by byte
-- order, as ListPEPNodes returns the names.
--
-- pep_nodes: one row per node, with next_seq, the seq of the node's last
-- published item. Every write of a node's items first locks (updates) its
-- row, which orders the node's writers.
CREATE TABLE pep_nodes (
    owner     text COLLATE "C" NOT NULL,
    node      bytea NOT NULL,
    access    text NOT NULL,
    max_items integer NOT NULL,
    next_seq  bigint NOT NULL,
    PRIMARY KEY (owner, node)
) WITH (fillfactor = 80);

-- pep_items: a node's items; the newest has the highest seq.
CREATE TABLE pep_items (
    owner     text COLLATE "C" NOT NULL,
    node      bytea NOT NULL,
    id        bytea NOT NULL,
    seq       bigint NOT NULL,
    published timestamptz NOT NULL,
    payload   bytea NOT NULL,
    PRIMARY KEY (owner, node, id)
);
CREATE INDEX pep_items_seq ON pep_items (owner, node, seq);
