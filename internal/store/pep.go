package store

import (
	"context"
	"time"
)

// PEPNode is the configuration of one of a user's personal eventing nodes
// (XEP-0163).
type PEPNode struct {
	// Access is the XEP-0060 access model: "presence" (the user's presence
	// subscribers), "open" or "whitelist" (the user alone).
	Access string
	// MaxItems is how many items the node keeps (the newest); at least 1.
	MaxItems int
}

// PEPItem is one published item.
type PEPItem struct {
	ID        string
	Payload   []byte // the item's payload, encoded by the caller
	Published time.Time
}

// PEP stores users' personal eventing nodes and their items. Nodes are
// named by the user (any string); node and item operations of one user are
// ordered.
type PEP interface {
	// GetPEPNode returns a node's configuration, or ErrNotFound.
	GetPEPNode(ctx context.Context, owner, node string) (PEPNode, error)
	// PutPEPNode creates a node or replaces its configuration; when the
	// new MaxItems is smaller, the oldest items beyond it are removed. Durable.
	PutPEPNode(ctx context.Context, owner, node string, cfg PEPNode) error
	// ListPEPNodes returns the owner's node names sorted by byte order;
	// empty (not an error) when there are none.
	ListPEPNodes(ctx context.Context, owner string) ([]string, error)
	// DeletePEPNode removes a node and its items; ErrNotFound if absent. Durable.
	DeletePEPNode(ctx context.Context, owner, node string) error
	// PutPEPItem publishes item to an existing node (ErrNotFound
	// otherwise): an item with the same ID is replaced and becomes the
	// newest; then the oldest items beyond the node's MaxItems are
	// removed. Durable.
	PutPEPItem(ctx context.Context, owner, node string, item PEPItem) error
	// GetPEPItems returns the node's items, newest first, at most max of
	// them (max <= 0: all); ErrNotFound if the node does not exist.
	GetPEPItems(ctx context.Context, owner, node string, max int) ([]PEPItem, error)
	// DeletePEPItem removes one item; ErrNotFound if the node or the item
	// does not exist. Durable.
	DeletePEPItem(ctx context.Context, owner, node, id string) error
}
